// The record of one issued worker op, kept small: a million ops may wait in the master's queue at
// once. Small inputs live in shared slabs (a view per op would cost ~96 bytes on V8; the record
// keeps the slab, an offset and a length), and the kind is on the prototype.
import { OpState, type OpSettler, type SlaveState, type TagSet, type WorkerOp } from "./types.ts";
import type { SlaveDeath } from "../recovery.ts";

/** Inputs up to this size are copied into a slab; larger ones keep their own buffer. */
const SLAB_INPUT_MAX = 4096;
const SLAB_BYTES = 256 * 1024;

let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

export interface OpFields {
  id: number;
  nameIndex: number;
  payload: Uint8Array;
  epoch: number;
  ctxVersion: number;
  tags: TagSet | null;
  retriesLeft: number;
  timeoutMs: number | undefined;
  settle: OpSettler;
}

export class OpRecord implements WorkerOp {
  declare readonly kind: "worker";
  readonly id: number;
  readonly nameIndex: number;
  readonly epoch: number;
  readonly ctxVersion: number;
  readonly tags: TagSet | null;
  state: OpState = OpState.Waiting;
  attempt = 0;
  retriesLeft: number;
  deaths: SlaveDeath[] | null = null;
  slave: SlaveState | null = null;
  timer: unknown = null;
  timedOut = false;
  readonly timeoutMs: number | undefined;
  readonly settle: OpSettler;
  private readonly bytes: Uint8Array;
  private readonly offset: number;
  private readonly length: number;

  constructor(fields: OpFields) {
    this.id = fields.id;
    this.nameIndex = fields.nameIndex;
    this.epoch = fields.epoch;
    this.ctxVersion = fields.ctxVersion;
    this.tags = fields.tags;
    this.retriesLeft = fields.retriesLeft;
    this.timeoutMs = fields.timeoutMs;
    this.settle = fields.settle;
    const input = fields.payload;
    if (input.length > SLAB_INPUT_MAX) {
      this.bytes = input;
      this.offset = 0;
    } else {
      if (slabUsed + input.length > SLAB_BYTES) {
        // A full slab is freed by the collector once no op in it is left.
        slab = new Uint8Array(SLAB_BYTES);
        slabUsed = 0;
      }
      slab.set(input, slabUsed);
      this.bytes = slab;
      this.offset = slabUsed;
      slabUsed += input.length;
    }
    this.length = input.length;
  }

  /** The encoded input (a view made when asked: at send time). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + this.length);
  }
}
Object.defineProperty(OpRecord.prototype, "kind", { value: "worker" });
