// The record of one issued worker op, kept small: a million ops may wait in the master's queue at
// once. Small inputs live in shared slabs (a view per op would cost ~96 bytes on V8; the record
// keeps the slab, an offset and a length), what few ops have is in one extra object, and the kind
// is on the prototype.
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

/** What few ops have: tags, retries, a timeout, deaths, refusals. One object for them, made only when needed. */
class OpExtras {
  tags: TagSet | null = null;
  refusals: string[] | null = null;
  retriesLeft = 0;
  deaths: SlaveDeath[] | null = null;
  timer: unknown = null;
  timedOut = false;
  timeoutMs: number | undefined = undefined;
}

export class OpRecord implements WorkerOp {
  declare readonly kind: "worker";
  readonly id: number;
  readonly nameIndex: number;
  readonly epoch: number;
  readonly ctxVersion: number;
  state: OpState = OpState.Waiting;
  attempt = 0;
  slave: SlaveState | null = null;
  readonly settle: OpSettler;
  private extras: OpExtras | null = null;
  private readonly bytes: Uint8Array;
  private readonly offset: number;
  private readonly length: number;

  constructor(fields: OpFields) {
    this.id = fields.id;
    this.nameIndex = fields.nameIndex;
    this.epoch = fields.epoch;
    this.ctxVersion = fields.ctxVersion;
    this.settle = fields.settle;
    if (fields.tags !== null) this.extra.tags = fields.tags;
    if (fields.retriesLeft !== 0) this.extra.retriesLeft = fields.retriesLeft;
    if (fields.timeoutMs !== undefined) this.extra.timeoutMs = fields.timeoutMs;
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

  get tags(): TagSet | null {
    return this.extras === null ? null : this.extras.tags;
  }
  set tags(value: TagSet | null) {
    this.extra.tags = value;
  }

  get inputBytes(): number {
    return this.length;
  }

  get refusals(): string[] | null {
    return this.extras === null ? null : this.extras.refusals;
  }
  set refusals(value: string[] | null) {
    this.extra.refusals = value;
  }

  get retriesLeft(): number {
    return this.extras === null ? 0 : this.extras.retriesLeft;
  }
  set retriesLeft(value: number) {
    this.extra.retriesLeft = value;
  }

  get deaths(): SlaveDeath[] | null {
    return this.extras === null ? null : this.extras.deaths;
  }
  set deaths(value: SlaveDeath[] | null) {
    this.extra.deaths = value;
  }

  get timer(): unknown {
    return this.extras === null ? null : this.extras.timer;
  }
  set timer(value: unknown) {
    if (value !== null || this.extras !== null) this.extra.timer = value;
  }

  get timedOut(): boolean {
    return this.extras === null ? false : this.extras.timedOut;
  }
  set timedOut(value: boolean) {
    this.extra.timedOut = value;
  }

  get timeoutMs(): number | undefined {
    return this.extras === null ? undefined : this.extras.timeoutMs;
  }

  private get extra(): OpExtras {
    return (this.extras ??= new OpExtras());
  }
}
Object.defineProperty(OpRecord.prototype, "kind", { value: "worker" });
