// The agent's shared-data relay with fake ports: chunks pass on as they arrive, a slave that asks
// mid-transfer catches up, the value is cached per host, and a value that does not match its hash
// never reaches a slave whole.
import { createHash } from "node:crypto";
import { expect } from "chai";
import { decode, encode } from "../../core/protocol/codec.ts";
import { FLAG_ERROR, FLAG_MORE, FrameSplitter, FrameType, HEADER_BYTES, Reassembler } from "../../core/protocol/frame.ts";
import { SharedRelay } from "../../remote-agent/shared-relay.ts";

function harness() {
  const toMaster: Array<{ type: number; id: number; payload: string }> = [];
  const received = new Map<number, Buffer[]>();
  const killed: Array<{ slave: number; reason: string }> = [];
  const gone = new Set<number>();
  const relay = new SharedRelay({
    toMaster: (frame) => toMaster.push({ type: frame[1]!, id: frame.readUInt32LE(12), payload: frame.subarray(HEADER_BYTES).toString() }),
    toSlave: (slave, bytes) => {
      if (gone.has(slave)) return false;
      received.set(slave, [...(received.get(slave) ?? []), Buffer.from(bytes)]);
      return true;
    },
    killSlave: (slave, reason) => killed.push({ slave, reason }),
  });
  /** What a slave's channel makes of the bytes it got: whole messages (payload and flags). */
  const messages = (slave: number) => {
    const out: Array<{ flags: number; id: number; payload: Buffer }> = [];
    const joiner = new Reassembler();
    const splitter = new FrameSplitter((type, flags, s, id, raw) => {
      expect(type).to.equal(FrameType.SharedData);
      expect(s).to.equal(slave);
      const whole = joiner.add(type, flags, s, id, raw.subarray(HEADER_BYTES));
      if (whole) out.push({ flags, id, payload: whole });
    });
    for (const bytes of received.get(slave) ?? []) splitter.push(bytes);
    return { out, pending: splitter.bufferedBytes };
  };
  return { relay, toMaster, received, killed, gone, messages };
}

const value = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
const hash = createHash("sha256").update(value).digest("hex");
const chunks = [value.subarray(0, 1000), value.subarray(1000, 2000), value.subarray(2000)];

describe("agent: shared-data relay", () => {
  it("fetches once per host; chunks reach a waiting slave before the value has fully arrived", () => {
    const t = harness();
    t.relay.get(1, 10, hash);
    t.relay.get(2, 20, hash);
    expect(t.toMaster).to.have.length(1);
    expect(t.toMaster[0]).to.deep.include({ type: FrameType.SharedFetch, payload: hash });
    const fetchId = t.toMaster[0]!.id;
    t.relay.receive(fetchId, FLAG_MORE, chunks[0]!);
    expect(t.received.get(1)!.reduce((n, b) => n + b.length, 0), "first chunk already passed on").to.equal(HEADER_BYTES + 1000);
    t.relay.receive(fetchId, FLAG_MORE, chunks[1]!);
    t.relay.receive(fetchId, 0, chunks[2]!);
    for (const [slave, request] of [[1, 10], [2, 20]] as const) {
      const { out, pending } = t.messages(slave);
      expect(pending).to.equal(0);
      expect(out).to.have.length(1);
      expect(out[0]!.id).to.equal(request);
      expect(out[0]!.flags & FLAG_ERROR).to.equal(0);
      expect(out[0]!.payload.equals(value)).to.equal(true);
    }
  });

  it("a slave asking mid-transfer gets the chunks so far, then the rest", () => {
    const t = harness();
    t.relay.get(1, 1, hash);
    const fetchId = t.toMaster[0]!.id;
    t.relay.receive(fetchId, FLAG_MORE, chunks[0]!);
    t.relay.receive(fetchId, FLAG_MORE, chunks[1]!);
    t.relay.get(2, 7, hash);
    expect(t.toMaster, "no second fetch").to.have.length(1);
    t.relay.receive(fetchId, 0, chunks[2]!);
    expect(t.messages(2).out[0]!.payload.equals(value)).to.equal(true);
  });

  it("a cached value is served without asking the master; a freed one is fetched again", () => {
    const t = harness();
    t.relay.get(1, 1, hash);
    chunks.forEach((chunk, i) => t.relay.receive(t.toMaster[0]!.id, i < 2 ? FLAG_MORE : 0, chunk));
    t.relay.get(3, 5, hash);
    expect(t.toMaster).to.have.length(1);
    expect(t.messages(3).out[0]!.payload.equals(value)).to.equal(true);
    t.relay.free([hash]);
    t.relay.get(3, 6, hash);
    expect(t.toMaster).to.have.length(2);
  });

  it("a value that does not match its hash: slaves holding part of it are killed, the others get an error, nothing is cached", () => {
    const t = harness();
    t.relay.get(1, 1, hash);
    const fetchId = t.toMaster[0]!.id;
    t.relay.receive(fetchId, FLAG_MORE, chunks[0]!);
    t.relay.get(2, 2, hash); // catches up: it holds part of it too
    const corrupt = Buffer.from(chunks[2]!);
    corrupt[0]! ^= 1;
    t.relay.receive(fetchId, FLAG_MORE, chunks[1]!);
    t.relay.receive(fetchId, 0, corrupt);
    expect(t.killed.map((k) => k.slave).sort()).to.deep.equal([1, 2]);
    expect(t.killed[0]!.reason).to.match(/failed after part of it was passed on/);
    for (const slave of [1, 2]) expect(t.messages(slave).out, "no whole message").to.have.length(0);
    t.relay.get(3, 3, hash);
    expect(t.toMaster, "fetched again, not served from cache").to.have.length(2);
  });

  it("an error from the master (value freed) reaches the waiting slaves as an error message", () => {
    const t = harness();
    t.relay.get(1, 4, hash);
    t.relay.receive(t.toMaster[0]!.id, FLAG_ERROR, encode(new Error("shared data abc was freed")));
    const { out } = t.messages(1);
    expect(out).to.have.length(1);
    expect(out[0]!.flags & FLAG_ERROR).to.not.equal(0);
    expect((decode(out[0]!.payload) as Error).message).to.equal("shared data abc was freed");
  });

  it("a slave that is gone is dropped from the transfer", () => {
    const t = harness();
    t.relay.get(1, 1, hash);
    t.relay.get(2, 2, hash);
    t.relay.dropSlave(2);
    chunks.forEach((chunk, i) => t.relay.receive(t.toMaster[0]!.id, i < 2 ? FLAG_MORE : 0, chunk));
    expect(t.received.get(2)).to.equal(undefined);
    expect(t.messages(1).out[0]!.payload.equals(value)).to.equal(true);
  });
});
