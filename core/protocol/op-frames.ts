// The payload layouts of Op, Context and Result frames, encoded and decoded here alone: the master
// writes Op and Context and reads Result, the slave the other way round. Pure: no I/O.
//
//   Op       0 u16 name index   2 u32 shared epoch   6 u32 context version   10 u16 attempt   12 input…
//   Context  0 u16 name index   2 input…
//   Result   0 u32 service µs   4 encoded value (or encoded error with FLAG_ERROR)…
//
// Inputs and bodies are codec-encoded values (core/protocol/codec.ts); an empty input means
// `undefined`. Decoded inputs and bodies are views of the payload, never copies.
import { FrameError, FrameType, HEADER_BYTES, frameTypeName, writeHeader } from "./frame.ts";

export const OP_PREFIX_BYTES = 12;
const CONTEXT_PREFIX_BYTES = 2;
const RESULT_PREFIX_BYTES = 4;

export interface OpHeader {
  nameIndex: number;
  /** Shared-data epoch when the master issued the op: it reads the versions current then. */
  epoch: number;
  /** Context ops issued before it: the slave must have applied exactly these. */
  ctxVersion: number;
  /** Runs started before this one; clamped to 0xffff on the wire. */
  attempt: number;
}

/** The size of an Op payload carrying `inputBytes` of encoded input. */
export function opPayloadBytes(inputBytes: number): number {
  return OP_PREFIX_BYTES + inputBytes;
}

/** A whole Op frame, 16-byte frame header included (for messages that fit one frame). */
export function encodeOpFrame(slave: number, id: number, header: OpHeader, input: Uint8Array): Buffer {
  const length = opPayloadBytes(input.length);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  writeHeader(frame, 0, FrameType.Op, 0, slave, id, length);
  writeOpPrefix(frame, HEADER_BYTES, header);
  frame.set(input, HEADER_BYTES + OP_PREFIX_BYTES);
  return frame;
}

/** The Op payload alone (for messages needing several frames). */
export function encodeOpPayload(header: OpHeader, input: Uint8Array): Buffer {
  const payload = Buffer.allocUnsafe(opPayloadBytes(input.length));
  writeOpPrefix(payload, 0, header);
  payload.set(input, OP_PREFIX_BYTES);
  return payload;
}

export function decodeOp(payload: Buffer): OpHeader & { input: Buffer } {
  checkLength(FrameType.Op, payload, OP_PREFIX_BYTES);
  return {
    nameIndex: payload.readUInt16LE(0),
    epoch: payload.readUInt32LE(2),
    ctxVersion: payload.readUInt32LE(6),
    attempt: payload.readUInt16LE(10),
    input: payload.subarray(OP_PREFIX_BYTES),
  };
}

export function encodeResultPayload(serviceUs: number, body: Uint8Array): Buffer {
  const payload = Buffer.allocUnsafe(RESULT_PREFIX_BYTES + body.length);
  payload.writeUInt32LE(clamp(serviceUs, 0xffffffff), 0);
  payload.set(body, RESULT_PREFIX_BYTES);
  return payload;
}

export function decodeResult(payload: Buffer): { serviceUs: number; body: Buffer } {
  checkLength(FrameType.Result, payload, RESULT_PREFIX_BYTES);
  return { serviceUs: payload.readUInt32LE(0), body: payload.subarray(RESULT_PREFIX_BYTES) };
}

export function encodeContextPayload(nameIndex: number, input: Uint8Array): Buffer {
  const payload = Buffer.allocUnsafe(CONTEXT_PREFIX_BYTES + input.length);
  payload.writeUInt16LE(nameIndex, 0);
  payload.set(input, CONTEXT_PREFIX_BYTES);
  return payload;
}

export function decodeContext(payload: Buffer): { nameIndex: number; input: Buffer } {
  checkLength(FrameType.Context, payload, CONTEXT_PREFIX_BYTES);
  return { nameIndex: payload.readUInt16LE(0), input: payload.subarray(CONTEXT_PREFIX_BYTES) };
}

function writeOpPrefix(target: Buffer, at: number, header: OpHeader): void {
  target.writeUInt16LE(header.nameIndex, at);
  target.writeUInt32LE(header.epoch, at + 2);
  target.writeUInt32LE(header.ctxVersion, at + 6);
  target.writeUInt16LE(clamp(header.attempt, 0xffff), at + 10);
}

/** A whole number in 0…max (service times are measured in fractions; attempts can exceed a u16). NaN is 0. */
function clamp(value: number, max: number): number {
  return value > 0 ? Math.min(max, Math.round(value)) : 0;
}

function checkLength(type: FrameType, payload: Buffer, prefix: number): void {
  if (payload.length < prefix) throw new FrameError(`${frameTypeName(type)} payload of ${payload.length} bytes: shorter than its ${prefix}-byte prefix`);
}
