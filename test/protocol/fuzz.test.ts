// Random and mutated byte streams into a FrameChannel: it must never throw out of its data handler,
// must either deliver frames or close with a FrameError that names the peer, and must finish each
// case synchronously. A small reference parser, written from the header layout in frame.ts, says
// which frames and which error each stream must give, whatever the chunking.
import { expect } from "chai";
import fc from "fast-check";
import { FrameChannel, type IncomingFrame } from "../../core/protocol/channel.ts";
import { FLAG_MORE, FRAME_MAGIC, FrameError, FrameType, HEADER_BYTES, encodeFrame } from "../../core/protocol/frame.ts";
import { memoryTransportPair } from "./memory-transport.ts";

const PEER = "agent on fuzz";
const MAX_PAYLOAD = 256;
/** The highest known frame type: every type from 1 to it is valid. */
const LAST_TYPE = Math.max(...Object.values(FrameType));

interface Seen {
  type: number;
  flags: number;
  slave: number;
  id: number;
  payload: string;
}

type Expected = { frames: Seen[]; error: RegExp | null };

/** What the stream must produce: the header spec applied byte by byte, chunked messages joined. */
function reference(bytes: Uint8Array): Expected {
  const data = Buffer.from(bytes);
  const frames: Seen[] = [];
  const partial = new Map<string, Buffer[]>();
  let offset = 0;
  // The magic byte and the type byte are checked as soon as they arrive, even in a partial header.
  while (offset < data.length) {
    if (data[offset] !== FRAME_MAGIC) {
      const hex = data[offset]!.toString(16).padStart(2, "0");
      return { frames, error: new RegExp(`^${PEER}: bad frame start byte 0x${hex}.*: the peer wrote something that is not a frame$`) };
    }
    if (data.length - offset < 2) break;
    const type = data[offset + 1]!;
    if (type < 1 || type > LAST_TYPE) return { frames, error: new RegExp(`^${PEER}: unknown frame type ${type}$`) };
    if (data.length - offset < HEADER_BYTES) break;
    const length = data.readUInt32LE(offset + 4);
    if (length > MAX_PAYLOAD) return { frames, error: new RegExp(`^${PEER}: oversized frame: ${length} bytes, limit ${MAX_PAYLOAD}$`) };
    if (offset + HEADER_BYTES + length > data.length) break;
    const flags = data.readUInt16LE(offset + 2);
    const slave = data.readUInt32LE(offset + 8);
    const id = data.readUInt32LE(offset + 12);
    const payload = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    offset += HEADER_BYTES + length;
    const key = `${type}:${slave}:${id}`;
    const parts = partial.get(key);
    if (flags & FLAG_MORE) {
      if (parts) parts.push(payload);
      else partial.set(key, [payload]);
      continue;
    }
    partial.delete(key);
    frames.push({ type, flags, slave, id, payload: Buffer.concat([...(parts ?? []), payload]).toString("hex") });
  }
  const left = data.length - offset;
  return { frames, error: left > 0 ? new RegExp(`^${PEER}: truncated frame \\(stream ended inside a frame, ${left} bytes in\\)$`) : null };
}

/** Feeds the bytes in chunks of the given sizes (cycled), then ends the stream; all synchronous. */
function runCase(bytes: Uint8Array, chunkSizes: number[]): { frames: Seen[]; closes: Array<Error | undefined> } {
  const [end] = memoryTransportPair();
  const channel = new FrameChannel(end, { peer: PEER, maxPayload: MAX_PAYLOAD });
  const frames: Seen[] = [];
  const closes: Array<Error | undefined> = [];
  channel.onFrame((frame: IncomingFrame) => {
    expect(channel.isClosed, "a frame arrived after the close").to.equal(false);
    frames.push({ type: frame.type, flags: frame.flags, slave: frame.slave, id: frame.id, payload: frame.payload.toString("hex") });
  });
  channel.onClose((error) => closes.push(error));
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = chunkSizes.length ? chunkSizes[i % chunkSizes.length]! : bytes.length;
    end.injectNow(bytes.subarray(at, at + size)); // must not throw, whatever the bytes
    at += size;
  }
  end.hangUpNow();
  expect(channel.isClosed, "the channel is closed once the stream has ended").to.equal(true);
  return { frames, closes };
}

type Outcome = "clean" | "not a frame" | "unknown frame type" | "oversized" | "truncated";

function check(bytes: Uint8Array, chunkSizes: number[]): Outcome {
  const expected = reference(bytes);
  const { frames, closes } = runCase(bytes, chunkSizes);
  expect(closes, "close listeners run exactly once, before the case ends").to.have.length(1);
  const error = closes[0];
  if (expected.error) {
    expect(error).to.be.instanceOf(FrameError);
    expect(error!.message).to.match(expected.error);
  } else {
    expect(error, error?.message).to.equal(undefined);
  }
  expect(frames).to.deep.equal(expected.frames);
  if (!error) return "clean";
  for (const outcome of ["not a frame", "unknown frame type", "oversized", "truncated"] as const) if (error.message.includes(outcome)) return outcome;
  return expect.fail(`unexpected close error: ${error.message}`);
}

const chunking = fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 6 });

const frameArb = fc.record({
  type: fc.integer({ min: 1, max: LAST_TYPE }),
  flags: fc.oneof(fc.constant(0), fc.constant(FLAG_MORE), fc.integer({ min: 0, max: 0xffff })),
  slave: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat()),
  id: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat()),
  payload: fc.uint8Array({ maxLength: MAX_PAYLOAD }),
});

const validStream = fc.array(frameArb, { maxLength: 10 }).map((frames) => ({
  frames,
  bytes: Buffer.concat(frames.map((f) => encodeFrame(f.type as FrameType, f.slave, f.id, f.payload, f.flags))),
}));

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "length"; frame: number; value: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("length" as const),
    frame: fc.nat(),
    value: fc.oneof(fc.integer({ min: 0, max: MAX_PAYLOAD + 2 }), fc.constantFrom(MAX_PAYLOAD, MAX_PAYLOAD + 1, 0x7fffffff, 0xffffffff), fc.nat()),
  }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 20 }) }),
);

/** Applies mutations; `starts` are the frame offsets of the valid stream (for length changes). */
function mutate(original: Buffer, starts: number[], mutations: Mutation[]): Buffer {
  let bytes = Buffer.from(original);
  for (const m of mutations) {
    if (bytes.length === 0 && m.kind !== "insert") continue;
    switch (m.kind) {
      case "flip": {
        const at = m.at % bytes.length;
        bytes[at] = bytes[at]! ^ (1 << m.bit);
        break;
      }
      case "truncate":
        bytes = bytes.subarray(0, m.at % (bytes.length + 1));
        break;
      case "length": {
        const valid = starts.filter((s) => s + 8 <= bytes.length);
        if (valid.length === 0) break;
        bytes.writeUInt32LE(m.value >>> 0, valid[m.frame % valid.length]! + 4);
        break;
      }
      case "insert": {
        const at = m.at % (bytes.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        break;
      }
      case "delete": {
        const at = m.at % bytes.length;
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
        break;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown mutation ${JSON.stringify(never)}`);
      }
    }
  }
  return bytes;
}

function frameStarts(frames: Array<{ payload: Uint8Array }>): number[] {
  const starts: number[] = [];
  let at = 0;
  for (const f of frames) {
    starts.push(at);
    at += HEADER_BYTES + f.payload.length;
  }
  return starts;
}

describe("FrameChannel fuzz", function () {
  this.timeout(20_000);

  it("the reference parser agrees with hand-made cases", () => {
    const good = encodeFrame(1, 2, 3, Buffer.from("ab"));
    expect(reference(good)).to.deep.equal({ frames: [{ type: 1, flags: 0, slave: 2, id: 3, payload: "6162" }], error: null });
    expect(reference(good.subarray(0, 17)).error!.source).to.include(" 17 bytes in");
    expect(reference(Buffer.from("x".repeat(16))).error!.source).to.include("0x78");
    check(good, []);
    check(Buffer.concat([good, Buffer.from("hello world, I am not a frame")]), [3]);
  });

  it("2,500 random byte strings", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), chunking, (bytes, chunks) => void check(bytes, chunks)), { numRuns: 2500 });
  });

  it("1,500 random byte strings that start like a frame (magic byte, any type)", () => {
    const startsLikeAFrame = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: MAX_PAYLOAD + 40 }), fc.uint8Array({ maxLength: 400 })).map(([type, length, rest]) => {
      const bytes = Buffer.alloc(8 + rest.length);
      bytes[0] = FRAME_MAGIC;
      bytes[1] = type;
      bytes.writeUInt32LE(length, 4);
      bytes.set(rest, 8);
      return bytes;
    });
    fc.assert(fc.property(startsLikeAFrame, chunking, (bytes, chunks) => void check(bytes, chunks)), { numRuns: 1500 });
  });

  it("1,000 valid frame streams arrive unchanged, whatever the chunking", () => {
    fc.assert(
      fc.property(validStream, chunking, ({ frames, bytes }, chunks) => {
        const expected = reference(bytes);
        expect(expected.error).to.equal(null);
        // Without FLAG_MORE every frame must come out exactly as it went in.
        if (frames.every((f) => !(f.flags & FLAG_MORE))) {
          expect(expected.frames).to.deep.equal(frames.map((f) => ({ type: f.type, flags: f.flags, slave: f.slave >>> 0, id: f.id >>> 0, payload: Buffer.from(f.payload).toString("hex") })));
        }
        void check(bytes, chunks);
      }),
      { numRuns: 1000 },
    );
  });

  it("5,000 mutated valid streams (bit flips, truncation, length fields, inserted and deleted bytes)", () => {
    const outcomes = new Map<Outcome, number>();
    fc.assert(
      fc.property(validStream, fc.array(mutation, { minLength: 1, maxLength: 4 }), chunking, ({ frames, bytes }, mutations, chunks) => {
        const outcome = check(mutate(bytes, frameStarts(frames), mutations), chunks);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { numRuns: 5000 },
    );
    // The mutations reach every way a stream can end.
    expect([...outcomes.keys()].sort()).to.deep.equal(["clean", "not a frame", "oversized", "truncated", "unknown frame type"]);
  });
});
