// The slave's shared-data reader with a fake agent: the version an op reads is the one current at
// its epoch; a value is fetched once per hash, its pieces placed into one buffer of the size its
// version announced, and decoded there (typed arrays as views of it); a value longer or shorter than
// announced is a FrameError; freed versions and values are forgotten.
import { createHash } from "node:crypto";
import { expect } from "chai";
import { encode } from "../../core/protocol/codec.ts";
import { FLAG_ERROR, FLAG_MORE, FrameError } from "../../core/protocol/frame.ts";
import type { SharedVersion } from "../../core/protocol/messages.ts";
import { HOST_LIMIT_CODE, hostLimitError } from "../../core/protocol/host-room.ts";
import { SharedReader } from "../../remote-agent/shared-reader.ts";

function setup() {
  const requests: Array<{ request: number; hash: string; size: number }> = [];
  const reader = new SharedReader({ request: (request, hash, size) => requests.push({ request, hash, size }) });
  const version = (key: string, epoch: number, value: unknown): { version: SharedVersion; bytes: Buffer } => {
    const bytes = encode(value);
    return { version: { key, epoch, hash: createHash("sha256").update(bytes).digest("hex"), size: bytes.length }, bytes };
  };
  /** Delivers `bytes` to `request` in pieces of `piece` bytes, FLAG_MORE on all but the last. */
  const deliver = (request: number, bytes: Buffer, piece = 1000) => {
    for (let at = 0; at < bytes.length; at += piece) reader.receive(request, at + piece < bytes.length ? FLAG_MORE : 0, Buffer.from(bytes.subarray(at, at + piece)));
  };
  return { reader, requests, version, deliver };
}

describe("agent: the slave's shared-data reader", () => {
  it("an op reads the version current at its epoch; one fetch per hash, shared by every reader", async () => {
    const t = setup();
    const v1 = t.version("lut", 1, [1, 2, 3]);
    const v2 = t.version("lut", 4, [4, 5, 6]);
    t.reader.addVersion(v1.version);
    t.reader.addVersion(v2.version);
    const early = t.reader.at(3).get("lut");
    const late = [t.reader.at(4).get("lut"), t.reader.at(9).get("lut")];
    expect(t.requests.map((r) => r.hash)).to.deep.equal([v1.version.hash, v2.version.hash]);
    t.deliver(t.requests[0]!.request, v1.bytes, 3);
    t.deliver(t.requests[1]!.request, v2.bytes);
    expect(await early).to.deep.equal([1, 2, 3]);
    expect(await Promise.all(late)).to.deep.equal([
      [4, 5, 6],
      [4, 5, 6],
    ]);
    // Read again: from this slave's values, no new fetch.
    expect(await t.reader.at(5).get("lut")).to.deep.equal([4, 5, 6]);
    expect(t.requests).to.have.length(2);
  });

  it("a key set after the op was issued (or never) is an error naming it", async () => {
    const t = setup();
    t.reader.addVersion(t.version("lut", 5, 1).version);
    for (const [key, epoch] of [["lut", 4], ["other", 9]] as const) {
      try {
        await t.reader.at(epoch).get(key);
        expect.fail("no error");
      } catch (error) {
        expect((error as Error).message).to.equal(`shared.get(${JSON.stringify(key)}): the master set no value under this key before issuing this op`);
      }
    }
  });

  it("a large Float64Array arrives in many pieces and is decoded in place: aligned, a view of one buffer of the announced size", async () => {
    const t = setup();
    const array = new Float64Array(100_000).map((_, i) => Math.sqrt(i));
    const v = t.version("table", 1, array);
    t.reader.addVersion(v.version);
    const got = t.reader.at(1).get<Float64Array>("table");
    t.deliver(t.requests[0]!.request, v.bytes, 65_536 - 16);
    const value = await got;
    expect(value).to.be.instanceOf(Float64Array);
    expect(value).to.deep.equal(array);
    expect(value.byteOffset % 8).to.equal(0);
    expect(value.buffer.byteLength, "one buffer: the value's bytes and at most 8 of padding").to.be.within(v.version.size, v.version.size + 8);
  });

  it("more bytes than the version announced: FrameError at once; fewer: FrameError at the last piece", () => {
    const t = setup();
    const v = t.version("k", 1, new Uint8Array(5000));
    t.reader.addVersion(v.version);
    void t.reader.at(1).get("k").catch(() => {});
    const request = t.requests[0]!.request;
    t.reader.receive(request, FLAG_MORE, v.bytes);
    expect(() => t.reader.receive(request, 0, Buffer.alloc(1))).to.throw(FrameError, new RegExp(`^shared data ${v.version.hash.slice(0, 12)}: more than the ${v.version.size} bytes its version announced$`));

    const u = setup();
    u.reader.addVersion(v.version);
    void u.reader.at(1).get("k").catch(() => {});
    expect(() => u.reader.receive(u.requests[0]!.request, 0, v.bytes.subarray(0, 100))).to.throw(FrameError, new RegExp(`: 100 bytes, not the ${v.version.size} its version announced$`));
  });

  it("an error instead of the value rejects the read (and the next read fetches again)", async () => {
    const t = setup();
    const v = t.version("k", 1, "value");
    t.reader.addVersion(v.version);
    const got = t.reader.at(1).get("k");
    const error = encode(new Error("shared data abc was freed"));
    t.reader.receive(t.requests[0]!.request, FLAG_ERROR | FLAG_MORE, error.subarray(0, 5));
    t.reader.receive(t.requests[0]!.request, FLAG_ERROR, error.subarray(5));
    try {
      await got;
      expect.fail("no error");
    } catch (e) {
      expect((e as Error).message).to.equal("shared data abc was freed");
    }
    void t.reader.at(1).get("k");
    expect(t.requests, "fetched again").to.have.length(2);
  });

  it("pieces for a request nobody waits for are ignored", () => {
    const t = setup();
    expect(() => t.reader.receive(77, 0, Buffer.from("x"))).not.to.throw();
  });

  it("SharedFree forgets versions (the key reads nothing at that epoch) and values (fetched again)", async () => {
    const t = setup();
    const v1 = t.version("k", 1, 10);
    const v2 = t.version("k", 2, 20);
    t.reader.addVersion(v1.version);
    t.reader.addVersion(v2.version);
    const got = t.reader.at(2).get("k");
    t.deliver(t.requests[0]!.request, v2.bytes);
    expect(await got).to.equal(20);
    t.reader.free({ versions: [{ key: "k", epoch: 1 }], hashes: [v1.version.hash, v2.version.hash] });
    await t.reader.at(1).get("k").then(
      () => expect.fail("version 1 was freed"),
      (error: Error) => expect(error.message).to.match(/set no value under this key/),
    );
    void t.reader.at(2).get("k");
    expect(t.requests.map((r) => r.hash)).to.deep.equal([v2.version.hash, v2.version.hash]);
  });

  it("asks with the size its version announced; a value the host cannot hold fails naming its key, and is asked for again next time", async () => {
    const t = setup();
    const v = t.version("lut", 1, new Float64Array(100));
    t.reader.addVersion(v.version);
    const first = t.reader.at(1).get("lut");
    expect(t.requests[0]).to.deep.include({ hash: v.version.hash, size: v.bytes.length });
    t.reader.receive(t.requests[0]!.request, FLAG_ERROR, encode(hostLimitError("807 bytes, larger than the 800 bytes a 32-bit Node.js can allocate")));
    const error = (await first.then(() => null, (e: unknown) => e)) as Error & { code?: unknown };
    expect(error.code).to.equal(HOST_LIMIT_CODE);
    expect(error.message).to.equal(`shared value "lut" is 807 bytes, larger than the 800 bytes a 32-bit Node.js can allocate`);
    void t.reader.at(1).get("lut").catch(() => {});
    expect(t.requests, "not remembered as failed: memory may have been freed since").to.have.length(2);
  });
});
