// The agent's shared-data relay with fake ports: chunks pass on as they arrive, a slave that asks
// mid-transfer catches up, the value is cached per host, and a value that does not match its hash
// never reaches a slave whole.
import { createHash } from "node:crypto";
import { expect } from "chai";
import { decode, encode } from "../../core/protocol/codec.ts";
import { FLAG_ERROR, FLAG_MORE, FrameSplitter, FrameType, HEADER_BYTES, Reassembler } from "../../core/protocol/frame.ts";
import { HOST_LIMIT_CODE, MEMORY_RESERVE_BYTES, type HostRoom } from "../../core/protocol/host-room.ts";
import { SharedRelay } from "../../remote-agent/shared-relay.ts";

/** A 64-bit host with room to spare, unless a test says otherwise. */
const ROOMY: HostRoom = { wordBits: 64, maxBufferBytes: 2 ** 32, freeMemoryBytes: 2 ** 34 };

function harness(room: HostRoom = ROOMY) {
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
    room: () => room,
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
    t.relay.get(1, 10, hash, value.length);
    t.relay.get(2, 20, hash, value.length);
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
    t.relay.get(1, 1, hash, value.length);
    const fetchId = t.toMaster[0]!.id;
    t.relay.receive(fetchId, FLAG_MORE, chunks[0]!);
    t.relay.receive(fetchId, FLAG_MORE, chunks[1]!);
    t.relay.get(2, 7, hash, value.length);
    expect(t.toMaster, "no second fetch").to.have.length(1);
    t.relay.receive(fetchId, 0, chunks[2]!);
    expect(t.messages(2).out[0]!.payload.equals(value)).to.equal(true);
  });

  it("a cached value is served without asking the master; a freed one is fetched again", () => {
    const t = harness();
    t.relay.get(1, 1, hash, value.length);
    chunks.forEach((chunk, i) => t.relay.receive(t.toMaster[0]!.id, i < 2 ? FLAG_MORE : 0, chunk));
    t.relay.get(3, 5, hash, value.length);
    expect(t.toMaster).to.have.length(1);
    expect(t.messages(3).out[0]!.payload.equals(value)).to.equal(true);
    t.relay.free([hash]);
    t.relay.get(3, 6, hash, value.length);
    expect(t.toMaster).to.have.length(2);
  });

  it("a value that does not match its hash: slaves holding part of it are killed, the others get an error, nothing is cached", () => {
    const t = harness();
    t.relay.get(1, 1, hash, value.length);
    const fetchId = t.toMaster[0]!.id;
    t.relay.receive(fetchId, FLAG_MORE, chunks[0]!);
    t.relay.get(2, 2, hash, value.length); // catches up: it holds part of it too
    const corrupt = Buffer.from(chunks[2]!);
    corrupt[0]! ^= 1;
    t.relay.receive(fetchId, FLAG_MORE, chunks[1]!);
    t.relay.receive(fetchId, 0, corrupt);
    expect(t.killed.map((k) => k.slave).sort()).to.deep.equal([1, 2]);
    expect(t.killed[0]!.reason).to.match(/failed after part of it was passed on/);
    for (const slave of [1, 2]) expect(t.messages(slave).out, "no whole message").to.have.length(0);
    t.relay.get(3, 3, hash, value.length);
    expect(t.toMaster, "fetched again, not served from cache").to.have.length(2);
  });

  it("an error from the master (value freed) reaches the waiting slaves as an error message", () => {
    const t = harness();
    t.relay.get(1, 4, hash, value.length);
    t.relay.receive(t.toMaster[0]!.id, FLAG_ERROR, encode(new Error("shared data abc was freed")));
    const { out } = t.messages(1);
    expect(out).to.have.length(1);
    expect(out[0]!.flags & FLAG_ERROR).to.not.equal(0);
    expect((decode(out[0]!.payload) as Error).message).to.equal("shared data abc was freed");
  });

  it("a slave that is gone is dropped from the transfer", () => {
    const t = harness();
    t.relay.get(1, 1, hash, value.length);
    t.relay.get(2, 2, hash, value.length);
    t.relay.dropSlave(2);
    chunks.forEach((chunk, i) => t.relay.receive(t.toMaster[0]!.id, i < 2 ? FLAG_MORE : 0, chunk));
    expect(t.received.get(2)).to.equal(undefined);
    expect(t.messages(1).out[0]!.payload.equals(value)).to.equal(true);
  });

  describe("a value the host cannot hold", () => {
    const refusal = (t: ReturnType<typeof harness>, slave: number) => {
      const { out } = t.messages(slave);
      expect(out).to.have.length(1);
      expect(out[0]!.flags & FLAG_ERROR).to.not.equal(0);
      return decode(out[0]!.payload) as Error & { code?: unknown };
    };

    it("larger than the largest buffer of the host's Node.js: a HostLimitError, and not one byte fetched", () => {
      const t = harness({ wordBits: 32, maxBufferBytes: 2 ** 30 - 1, freeMemoryBytes: 2 ** 34 });
      t.relay.get(1, 3, hash, 2 ** 30 + 5);
      expect(t.toMaster, "nothing asked of the master").to.deep.equal([]);
      const error = refusal(t, 1);
      expect(error.code).to.equal(HOST_LIMIT_CODE);
      expect(error.message).to.equal("1 GiB (1,073,741,829 bytes), larger than the 1,073,741,823 bytes a 32-bit Node.js can allocate");
    });

    it("free memory is judged when a slave asks: two copies (cache and slave) to fetch, one once cached", () => {
      const room = { ...ROOMY, freeMemoryBytes: MEMORY_RESERVE_BYTES + value.length * 2 };
      const t = harness(room);
      t.relay.get(1, 1, hash, value.length);
      expect(t.toMaster, "room for both copies: fetched").to.have.length(1);
      chunks.forEach((chunk, i) => t.relay.receive(t.toMaster[0]!.id, i < 2 ? FLAG_MORE : 0, chunk));
      room.freeMemoryBytes = MEMORY_RESERVE_BYTES + value.length; // the cache took its copy
      t.relay.get(2, 2, hash, value.length);
      expect(t.messages(2).out[0]!.payload.equals(value), "served from the cache: one copy needed").to.equal(true);
      room.freeMemoryBytes = MEMORY_RESERVE_BYTES + value.length - 1;
      t.relay.get(3, 3, hash, value.length);
      const error = refusal(t, 3);
      expect(error.code).to.equal(HOST_LIMIT_CODE);
      expect(error.message).to.equal("2.9 KiB (3,000 bytes), larger than the 2,999 bytes of free memory there (64 MiB less 64 MiB kept for the processes)");
      expect(t.toMaster, "still one fetch in all").to.have.length(1);
    });

    it("a new value needs room for the cache's copy and the slave's", () => {
      const t = harness({ ...ROOMY, freeMemoryBytes: MEMORY_RESERVE_BYTES + value.length * 2 - 1 });
      t.relay.get(1, 1, hash, value.length);
      expect(t.toMaster).to.deep.equal([]);
      expect(refusal(t, 1).message).to.match(/ × 2 copies = .*, larger than the .* of free memory there \(.* less 64 MiB kept for the processes\)$/);
    });

    it("copies promised to a transfer under way count against free memory until it ends (the snapshot does not show them yet)", () => {
      const room = { ...ROOMY, freeMemoryBytes: MEMORY_RESERVE_BYTES + value.length * 3 };
      const t = harness(room);
      t.relay.get(1, 1, hash, value.length); // the cache's copy and slave 1's
      t.relay.get(2, 2, hash, value.length); // slave 2's: the third copy
      t.relay.get(3, 3, hash, value.length); // a fourth would not fit
      expect(t.toMaster).to.have.length(1);
      expect(refusal(t, 3).code).to.equal(HOST_LIMIT_CODE);
      chunks.forEach((chunk, i) => t.relay.receive(t.toMaster[0]!.id, i < 2 ? FLAG_MORE : 0, chunk));
      for (const slave of [1, 2]) expect(t.messages(slave).out[0]!.payload.equals(value)).to.equal(true);
      // Done: the pledges are gone; the snapshot is the judge again.
      t.relay.get(4, 4, hash, value.length);
      expect(t.messages(4).out[0]!.payload.equals(value)).to.equal(true);
    });
  });
});
