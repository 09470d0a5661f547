// The records the master keeps for issued operations, and the Op frame layout.
import { HEADER_BYTES, FrameType, writeHeader } from "../protocol/frame.ts";
import type { OpOptions } from "../program/index.ts";
import type { SlaveDeath } from "./recovery.ts";

export interface WorkerOp {
  kind: "worker";
  id: number;
  name: string;
  nameIndex: number;
  /** Encoded input, taken at issue time: later mutation by main cannot change what the op sees. */
  payload: Buffer;
  /** Shared-data epoch at issue time. */
  epoch: number;
  /** Context ops issued before this op: the slave running it must have applied exactly these. */
  ctxVersion: number;
  /** Runs started so far (user-exception retries and re-runs after slave loss). */
  attempt: number;
  retriesLeft: number;
  /** Slaves that died while running this op (it is poison once there are enough). */
  deaths: SlaveDeath[];
  options: OpOptions | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** The promise is settled (result, error, timeout or abort); a late result is dropped. */
  settled: boolean;
  slave: number | null;
  timer: NodeJS.Timeout | null;
  /** Its timeout fired (as opposed to a cancel through its signal). */
  timedOut: boolean;
  /** The promise the program holds (set right after issue). */
  promise: Promise<unknown> | null;
  sentAt: number;
}

export interface ContextOp {
  kind: "context";
  seq: number;
  name: string;
  nameIndex: number;
  payload: Buffer;
  /** Slaves it was sent to that have not acknowledged it yet. */
  pending: Set<number>;
  applied: boolean;
  error: Error | null;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
  /** The promise the program holds (set right after issue). */
  promise: Promise<unknown> | null;
}

export type QueueEntry = WorkerOp | ContextOp;

const OP_PREFIX = 12; // u16 name, u32 epoch, u32 ctxVersion, u16 attempt

/** The Op message payload: a fixed prefix the slave reads directly, then the encoded input. */
export function opPayloadSize(op: WorkerOp): number {
  return OP_PREFIX + op.payload.length;
}

/** Writes one whole Op frame (header included): used when it fits in one frame. */
export function opFrame(op: WorkerOp, slave: number): Buffer {
  const length = OP_PREFIX + op.payload.length;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  writeHeader(frame, 0, FrameType.Op, 0, slave, op.id, length);
  writeOpPrefix(frame, HEADER_BYTES, op);
  frame.set(op.payload, HEADER_BYTES + OP_PREFIX);
  return frame;
}

/** The Op payload alone (for messages large enough to need several frames). */
export function opPayload(op: WorkerOp): Buffer {
  const payload = Buffer.allocUnsafe(OP_PREFIX + op.payload.length);
  writeOpPrefix(payload, 0, op);
  payload.set(op.payload, OP_PREFIX);
  return payload;
}

function writeOpPrefix(target: Buffer, at: number, op: WorkerOp): void {
  target.writeUInt16LE(op.nameIndex, at);
  target.writeUInt32LE(op.epoch, at + 2);
  target.writeUInt32LE(op.ctxVersion, at + 6);
  target.writeUInt16LE(Math.min(op.attempt, 0xffff), at + 10);
}

export function contextPayload(op: ContextOp): Buffer {
  const payload = Buffer.allocUnsafe(2 + op.payload.length);
  payload.writeUInt16LE(op.nameIndex, 0);
  payload.set(op.payload, 2);
  return payload;
}
