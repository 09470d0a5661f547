// The Op, Context and Result payload layouts: what one side encodes the other decodes, at the
// field limits, and a payload too short for its prefix is a clear FrameError.
import { expect } from "chai";
import { decode, encode } from "../../core/protocol/codec.ts";
import { FrameError, FrameSplitter, FrameType, HEADER_BYTES, Reassembler, encodeMessage } from "../../core/protocol/frame.ts";
import {
  OP_PREFIX_BYTES,
  decodeContext,
  decodeOp,
  decodeResult,
  encodeContextPayload,
  encodeOpFrame,
  encodeOpPayload,
  encodeResultPayload,
  opPayloadBytes,
  type OpHeader,
} from "../../core/protocol/op-frames.ts";

/** The frames in `bytes`, header fields and payload. */
function frames(bytes: Buffer): Array<{ type: number; flags: number; slave: number; id: number; payload: Buffer }> {
  const out: Array<{ type: number; flags: number; slave: number; id: number; payload: Buffer }> = [];
  new FrameSplitter((type, flags, slave, id, raw) => out.push({ type, flags, slave, id, payload: raw.subarray(HEADER_BYTES) })).push(bytes);
  return out;
}

function expectFrameError(run: () => unknown, pattern: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(FrameError);
    expect((error as FrameError).corrupt, "a short payload is corruption, not a truncated stream").to.equal(true);
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail("no FrameError");
}

describe("op-frames: Op, Context and Result payloads", () => {
  const header: OpHeader = { nameIndex: 3, epoch: 41, ctxVersion: 7, attempt: 2 };
  const input = encode({ tile: [1, 2], name: "x" });

  describe("Op", () => {
    it("encodeOpFrame: one whole frame (type Op, slave, id) whose payload decodes to the header and input", () => {
      const bytes = encodeOpFrame(12, 345, header, input);
      expect(bytes.length).to.equal(HEADER_BYTES + opPayloadBytes(input.length));
      const [frame, ...rest] = frames(bytes);
      expect(rest).to.have.length(0);
      expect(frame).to.deep.include({ type: FrameType.Op, flags: 0, slave: 12, id: 345 });
      const op = decodeOp(frame!.payload);
      expect({ nameIndex: op.nameIndex, epoch: op.epoch, ctxVersion: op.ctxVersion, attempt: op.attempt }).to.deep.equal(header);
      expect(decode(op.input)).to.deep.equal({ tile: [1, 2], name: "x" });
    });

    it("encodeOpPayload equals the frame's payload, and a multi-frame message joins back to it", () => {
      const big = encode(new Uint8Array(5000).fill(9));
      const payload = encodeOpPayload(header, big);
      expect(payload.equals(encodeOpFrame(1, 2, header, big).subarray(HEADER_BYTES))).to.equal(true);
      const joiner = new Reassembler();
      let whole: Buffer | null = null;
      for (const frame of encodeMessage(FrameType.Op, 1, 2, payload, 0, 1000)) {
        for (const f of frames(frame)) whole = joiner.add(f.type, f.flags, f.slave, f.id, f.payload) ?? whole;
      }
      const op = decodeOp(whole!);
      expect(op.attempt).to.equal(2);
      expect(decode(op.input)).to.deep.equal(new Uint8Array(5000).fill(9));
    });

    it("the prefix is 12 bytes: u16 name, u32 epoch, u32 context version, u16 attempt, little endian", () => {
      expect(OP_PREFIX_BYTES).to.equal(12);
      expect(opPayloadBytes(0)).to.equal(12);
      const payload = encodeOpPayload({ nameIndex: 0x0102, epoch: 0x03040506, ctxVersion: 0x0708090a, attempt: 0x0b0c }, Buffer.from([0xee]));
      expect(payload.toString("hex")).to.equal("0201" + "06050403" + "0a090807" + "0c0b" + "ee");
    });

    it("field limits round-trip: u16 and u32 maxima, zeros, an empty input", () => {
      for (const h of [
        { nameIndex: 0, epoch: 0, ctxVersion: 0, attempt: 0 },
        { nameIndex: 0xffff, epoch: 0xffffffff, ctxVersion: 0xffffffff, attempt: 0xffff },
      ]) {
        const op = decodeOp(encodeOpPayload(h, Buffer.alloc(0)));
        expect({ nameIndex: op.nameIndex, epoch: op.epoch, ctxVersion: op.ctxVersion, attempt: op.attempt }).to.deep.equal(h);
        expect(op.input.length).to.equal(0);
      }
    });

    it("an attempt above 0xffff is clamped to 0xffff (the epoch and context version are not touched)", () => {
      expect(decodeOp(encodeOpPayload({ ...header, attempt: 70_000 }, input)).attempt).to.equal(0xffff);
      expect(decodeOp(encodeOpFrame(1, 1, { ...header, attempt: 1e9 }, input).subarray(HEADER_BYTES)).attempt).to.equal(0xffff);
    });

    it("the decoded input is a view of the payload, not a copy", () => {
      const payload = encodeOpPayload(header, input);
      const op = decodeOp(payload);
      expect(op.input.buffer).to.equal(payload.buffer);
      expect(op.input.byteOffset).to.equal(payload.byteOffset + OP_PREFIX_BYTES);
    });

    it("a payload shorter than 12 bytes is a FrameError naming the frame type and the sizes", () => {
      for (const length of [0, 1, 11]) expectFrameError(() => decodeOp(Buffer.alloc(length)), new RegExp(`Op payload of ${length} bytes: shorter than its 12-byte prefix`));
      expect(decodeOp(Buffer.alloc(12)).input.length).to.equal(0);
    });
  });

  describe("Context", () => {
    it("round-trips the name index and the input", () => {
      const payload = encodeContextPayload(0xfffe, input);
      expect(payload.length).to.equal(2 + input.length);
      const ctx = decodeContext(payload);
      expect(ctx.nameIndex).to.equal(0xfffe);
      expect(decode(ctx.input)).to.deep.equal({ tile: [1, 2], name: "x" });
      expect(ctx.input.buffer, "a view").to.equal(payload.buffer);
    });

    it("an empty input leaves a 2-byte payload; shorter is a FrameError", () => {
      expect(decodeContext(encodeContextPayload(5, Buffer.alloc(0)))).to.deep.include({ nameIndex: 5 });
      expect(decodeContext(encodeContextPayload(5, Buffer.alloc(0))).input.length).to.equal(0);
      for (const length of [0, 1]) expectFrameError(() => decodeContext(Buffer.alloc(length)), /Context payload of \d bytes: shorter than its 2-byte prefix/);
    });
  });

  describe("Result", () => {
    it("round-trips the service time and the body (a view)", () => {
      const body = encode([1, "two"]);
      const payload = encodeResultPayload(1234, body);
      const result = decodeResult(payload);
      expect(result.serviceUs).to.equal(1234);
      expect(decode(result.body)).to.deep.equal([1, "two"]);
      expect(result.body.buffer).to.equal(payload.buffer);
    });

    it("a fractional service time is rounded; negative or NaN is 0; above u32 is clamped to 0xffffffff", () => {
      const us = (value: number) => decodeResult(encodeResultPayload(value, Buffer.alloc(0))).serviceUs;
      expect(us(12.6)).to.equal(13);
      expect(us(0)).to.equal(0);
      expect(us(-5)).to.equal(0);
      expect(us(Number.NaN)).to.equal(0);
      expect(us(0xffffffff)).to.equal(0xffffffff);
      expect(us(2 ** 40)).to.equal(0xffffffff);
      expect(us(Infinity)).to.equal(0xffffffff);
    });

    it("an empty body leaves a 4-byte payload; shorter is a FrameError", () => {
      expect(decodeResult(Buffer.alloc(4)).body.length).to.equal(0);
      for (const length of [0, 3]) expectFrameError(() => decodeResult(Buffer.alloc(length)), /Result payload of \d bytes: shorter than its 4-byte prefix/);
    });
  });
});
