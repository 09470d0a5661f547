// The layout of the timeline records the master's thread hands to the writer thread, encoded and
// decoded in this one module. A batch is a Float64Array of fixed-size records, the op inputs'
// bytes, and a short list of whatever is rare and not a number (tracks, instants, errors), which
// travels structured-cloned. Encoding a run is ten stores and a small copy: the master's thread
// makes no string and no object per op.
import type { ContextRun, Instant, OpRun, RunInfo, RunOutcome, SettledOp, TimelineSink, Track } from "../../core/trace/timeline-sink.ts";

export const SLOTS = 10;
export const RECORDS_PER_BATCH = 4096;
/** Input bytes a batch carries; a larger input has its picture made where it was issued. */
const INPUT_BYTES = 256 * 1024;
const INPUT_COPY_MAX = 4096;

const enum Kind {
  Run = 1,
  /** Settled by the run just before it in the batch. */
  SettledByRun = 2,
  Settled = 3,
  Context = 4,
  Counter = 5,
  /** Something rare: its object is in `extras` at the index in slot 1. */
  Extra = 6,
}

const OUTCOMES: readonly RunOutcome[] = ["ok", "error", "retried", "lost", "late"];
const OUTCOME_CODE = new Map(OUTCOMES.map((outcome, code) => [outcome, code]));

export type Extra =
  | { kind: "begin"; info: RunInfo }
  | { kind: "track"; track: Track }
  | { kind: "instant"; instant: Instant }
  | { kind: "shared"; host: string; hash: string; bytes: number; startMs: number; endMs: number; ok: boolean }
  | { kind: "text"; text: string };

export interface Batch {
  records: Float64Array;
  count: number;
  inputs: Uint8Array;
  extras: Extra[];
}

export class BatchEncoder {
  /** Arrays of written batches, given back by the writer thread for reuse: fresh ones would cost the master's collector (each batch is ~0.6 MB). */
  private readonly spare: Array<{ records: Float64Array; inputs: Uint8Array }> = [];
  private records: Float64Array = new Float64Array(RECORDS_PER_BATCH * SLOTS);
  private count = 0;
  private inputs: Uint8Array = new Uint8Array(INPUT_BYTES);
  private inputsUsed = 0;
  private extras: Extra[] = [];
  private readonly knownTracks: boolean[] = [];

  get full(): boolean {
    return this.count >= RECORDS_PER_BATCH - 1 || this.inputsUsed > INPUT_BYTES - INPUT_COPY_MAX;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** The batch so far; the encoder starts a new one. */
  take(): Batch {
    const batch = { records: this.records, count: this.count, inputs: this.inputs, extras: this.extras };
    const spare = this.spare.pop();
    this.records = spare?.records ?? new Float64Array(RECORDS_PER_BATCH * SLOTS);
    this.count = 0;
    this.inputs = spare?.inputs ?? new Uint8Array(INPUT_BYTES);
    this.inputsUsed = 0;
    this.extras = [];
    return batch;
  }

  /** Arrays of a batch the writer thread is done with. */
  reuse(arrays: { records: Float64Array; inputs: Uint8Array }): void {
    if (this.spare.length < 4) this.spare.push(arrays);
  }

  extra(extra: Extra): void {
    const at = this.slot(Kind.Extra);
    this.records[at + 1] = this.extras.push(extra) - 1;
  }

  run(run: OpRun): void {
    this.track(run.track);
    const at = this.slot(Kind.Run);
    const r = this.records;
    r[at + 1] = run.track.id;
    r[at + 2] = run.opId;
    r[at + 3] = run.nameIndex;
    r[at + 4] = run.attempt * 16 + OUTCOME_CODE.get(run.outcome)! * 2 + (run.final ? 1 : 0);
    r[at + 5] = run.startMs;
    r[at + 6] = run.serviceUs;
    r[at + 7] = run.waitUs;
    r[at + 8] = this.input(run.payload, run.input);
    r[at + 9] = this.text(run.error);
  }

  settled(settled: SettledOp): void {
    const byRun = settled.run !== null;
    const at = this.slot(byRun ? Kind.SettledByRun : Kind.Settled);
    const r = this.records;
    r[at + 2] = settled.opId;
    r[at + 3] = settled.nameIndex;
    r[at + 4] = settled.ok ? 1 : 0;
    r[at + 8] = byRun ? -1 : this.input(settled.payload, settled.input);
    r[at + 9] = this.text(settled.error);
  }

  context(run: ContextRun): void {
    this.track(run.track);
    const at = this.slot(Kind.Context);
    const r = this.records;
    r[at + 1] = run.track.id;
    r[at + 2] = run.seq;
    r[at + 3] = run.nameIndex;
    r[at + 4] = run.replay ? 1 : 0;
    r[at + 5] = run.startMs;
    r[at + 6] = run.endMs;
    r[at + 9] = this.text(run.error);
  }

  counter(atMs: number, queued: number, running: number): void {
    const at = this.slot(Kind.Counter);
    this.records[at + 2] = queued;
    this.records[at + 3] = running;
    this.records[at + 5] = atMs;
  }

  /** Makes the track known to the decoder before a record names it. */
  track(track: Track): void {
    if (this.knownTracks[track.id]) return;
    this.knownTracks[track.id] = true;
    this.extra({ kind: "track", track: { ...track } });
  }

  private slot(kind: Kind): number {
    const at = this.count++ * SLOTS;
    this.records[at] = kind;
    return at;
  }

  /** Where the input is: ≥ 0 its bytes (offset × 2^17 + length), < 0 an extra's text (-1 - index). */
  private input(payload: Uint8Array, picture: string | null): number {
    if (picture !== null || payload.length > INPUT_COPY_MAX) return -1 - (this.extras.push({ kind: "text", text: picture ?? `<${payload.length} bytes>` }) - 1);
    const offset = this.inputsUsed;
    this.inputs.set(payload, offset);
    this.inputsUsed += payload.length;
    return offset * 131072 + payload.length;
  }

  /** -1 for none, else the index of an extra holding the text. */
  private text(text: string | null): number {
    return text === null ? -1 : this.extras.push({ kind: "text", text }) - 1;
  }
}

/** Replays batches into sinks (on the writer thread). */
export class BatchDecoder {
  private readonly tracks: Track[] = [];
  private readonly run: OpRun;
  private readonly settledOp: SettledOp;
  private readonly contextRun: ContextRun;

  constructor(private readonly sinks: readonly TimelineSink[]) {
    const track: Track = { id: -1, host: "", slot: 0, label: "" };
    const empty = new Uint8Array(0);
    this.run = { track, opId: 0, nameIndex: 0, attempt: 0, startMs: 0, serviceUs: 0, waitUs: 0, outcome: "ok", final: false, payload: empty, input: null, error: null };
    this.settledOp = { opId: 0, nameIndex: 0, run: null, ok: true, error: null, payload: empty, input: null };
    this.contextRun = { track, seq: 0, nameIndex: 0, replay: false, startMs: 0, endMs: 0, error: null };
  }

  replay(batch: Batch): void {
    const { records: r, extras, inputs } = batch;
    const text = (ref: number) => (ref < 0 ? null : (extras[ref] as { text: string }).text);
    for (let i = 0; i < batch.count; i++) {
      const at = i * SLOTS;
      switch (r[at] as Kind) {
        case Kind.Run: {
          const run = this.run;
          run.track = this.tracks[r[at + 1]!]!;
          run.opId = r[at + 2]!;
          run.nameIndex = r[at + 3]!;
          const packed = r[at + 4]!;
          run.attempt = Math.floor(packed / 16);
          run.outcome = OUTCOMES[Math.floor(packed / 2) % 8]!;
          run.final = packed % 2 === 1;
          run.startMs = r[at + 5]!;
          run.serviceUs = r[at + 6]!;
          run.waitUs = r[at + 7]!;
          this.input(run, r[at + 8]!, inputs, extras);
          run.error = text(r[at + 9]!);
          for (const sink of this.sinks) sink.opRun(run);
          break;
        }
        case Kind.SettledByRun:
        case Kind.Settled: {
          const settled = this.settledOp;
          const byRun = r[at] === Kind.SettledByRun;
          settled.run = byRun ? this.run : null;
          settled.opId = r[at + 2]!;
          settled.nameIndex = r[at + 3]!;
          settled.ok = r[at + 4] === 1;
          if (byRun) {
            settled.payload = this.run.payload;
            settled.input = this.run.input;
          }
          else this.input(settled, r[at + 8]!, inputs, extras);
          settled.error = text(r[at + 9]!);
          for (const sink of this.sinks) sink.opSettled(settled);
          break;
        }
        case Kind.Context: {
          const run = this.contextRun;
          run.track = this.tracks[r[at + 1]!]!;
          run.seq = r[at + 2]!;
          run.nameIndex = r[at + 3]!;
          run.replay = r[at + 4] === 1;
          run.startMs = r[at + 5]!;
          run.endMs = r[at + 6]!;
          run.error = text(r[at + 9]!);
          for (const sink of this.sinks) sink.contextRun(run);
          break;
        }
        case Kind.Counter:
          for (const sink of this.sinks) sink.counter(r[at + 5]!, r[at + 2]!, r[at + 3]!);
          break;
        case Kind.Extra:
          this.extra(extras[r[at + 1]!]!);
          break;
      }
    }
  }

  end(): void {
    for (const sink of this.sinks) sink.end();
  }

  private extra(extra: Extra): void {
    switch (extra.kind) {
      case "begin":
        for (const sink of this.sinks) sink.begin(extra.info);
        return;
      case "track":
        this.tracks[extra.track.id] = extra.track;
        return;
      case "instant": {
        const instant = extra.instant;
        // The track object the writers know (they key their tables by its id).
        if (instant.track !== null) instant.track = this.tracks[instant.track.id] ?? instant.track;
        for (const sink of this.sinks) sink.instant(instant);
        return;
      }
      case "shared":
        for (const sink of this.sinks) sink.sharedFetch(extra.host, extra.hash, extra.bytes, extra.startMs, extra.endMs, extra.ok);
        return;
      case "text":
        return;
    }
  }

  private input(into: { payload: Uint8Array; input: string | null }, ref: number, inputs: Uint8Array, extras: Extra[]): void {
    if (ref < 0) {
      into.input = (extras[-1 - ref] as { text: string }).text;
      return;
    }
    const offset = Math.floor(ref / 131072);
    into.payload = inputs.subarray(offset, offset + (ref % 131072));
    into.input = null;
  }
}
