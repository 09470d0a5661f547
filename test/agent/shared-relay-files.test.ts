// The relay reading shared values from a shared folder (Config.sharedDir): a file there with the
// right content goes to the slaves and nothing is asked of the master; a missing or wrong file
// falls back to fetching through the connection. Real files, written by the master's SharedFiles.
import { createHash } from "node:crypto";
import { mkdtempSync, readFile, rmSync, writeFileSync, existsSync } from "node:fs";
import { promisify } from "node:util";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { FrameSplitter, FrameType, HEADER_BYTES, Reassembler } from "../../core/protocol/frame.ts";
import { SharedFiles } from "../../core/runtime/shared-files.ts";
import { SharedRelay } from "../../remote-agent/shared-relay.ts";

const read = promisify(readFile);

function harness(dir: string) {
  const toMaster: string[] = [];
  const received: Buffer[] = [];
  const relay = new SharedRelay({
    toMaster: (frame) => toMaster.push(frame.subarray(HEADER_BYTES).toString()),
    toSlave: (_slave, bytes) => (received.push(Buffer.from(bytes)), true),
    killSlave: () => {},
    fromFile: (hash) => read(path.join(dir, hash)).catch(() => null),
    room: () => ({ wordBits: 64, maxBufferBytes: 2 ** 32, freeMemoryBytes: 2 ** 34 }),
  });
  /** The whole value slave 1 got for request 7, once it is all there. */
  const value = () => {
    let whole: Buffer | null = null;
    const joiner = new Reassembler();
    const splitter = new FrameSplitter((type, flags, slave, id, raw) => {
      expect([type, slave, id]).to.deep.equal([FrameType.SharedData, 1, 7]);
      whole = joiner.add(type, flags, slave, id, raw.subarray(HEADER_BYTES)) ?? whole;
    });
    for (const bytes of received) splitter.push(bytes);
    return whole as Buffer | null;
  };
  return { relay, toMaster, value };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("agent: shared values from a shared folder", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "mnt-shared-files-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a value the master wrote (1 MiB and a bit: several pieces) reaches the slave whole, with no fetch", async () => {
    const bytes = Buffer.from(Array.from({ length: 1024 * 1024 + 4321 }, (_, i) => (i * 7) % 256));
    const hash = createHash("sha256").update(bytes).digest("hex");
    const files = new SharedFiles();
    files.add(dir, []);
    files.write(hash, bytes);
    const t = harness(dir);
    t.relay.get(1, 7, hash, bytes.length);
    await settle();
    expect(t.toMaster).to.deep.equal([]);
    expect(t.value()?.equals(bytes)).to.equal(true);
    files.remove([hash]);
    await settle();
    expect(existsSync(path.join(dir, hash))).to.equal(false);
  });

  it("no file, or one whose content does not match its name: fetched from the master", async () => {
    const bytes = Buffer.from("the real value");
    const hash = createHash("sha256").update(bytes).digest("hex");
    const t = harness(dir);
    t.relay.get(1, 7, hash, bytes.length);
    await settle();
    expect(t.toMaster).to.deep.equal([hash]);
    writeFileSync(path.join(dir, hash), "something else");
    const u = harness(dir);
    u.relay.get(1, 7, hash, bytes.length);
    await settle();
    expect(u.toMaster).to.deep.equal([hash]);
  });
});
