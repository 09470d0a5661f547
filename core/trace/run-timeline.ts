// The run as a timeline: turns the scheduler's and runtime's hooks (RunObserver) into slices on
// one track per slave, instants and counter samples, all on the master's clock, and hands them to
// sinks (the Chrome trace, the joblog).
//
// Where a run sits on its track: the master knows when an answer arrived and the slave's own
// service time, not when the slave started. Answers leave a slave once per read, so several may
// arrive together; a run is placed at `arrival - service`, but never before the end of the
// previous run on that track (a slave runs one op at a time), so runs on a track never overlap.
import type { RunObserver } from "../runtime/run-observer.ts";
import type { RuntimeEvent } from "../runtime/runtime.ts";
import type { ContextOp, SlaveState, WorkerOp } from "../runtime/scheduler/types.ts";
import { IssueTimes } from "./issue-times.ts";
import type { ContextRun, OpRun, SettledOp, TimelineSink, Track } from "./timeline-sink.ts";

/** A slave's place on its track, and the context ops sent to it and not yet acknowledged. */
interface SlaveLane {
  readonly track: Track;
  /** End of the last run placed on the track (ms). */
  lastEnd: number;
  /** Context ops sent, in order: seq, sent at, replay (acknowledged in the same order). */
  readonly contexts: Array<{ seq: number; nameIndex: number; sentAt: number; replay: boolean }>;
}

export class RunTimeline implements RunObserver {
  private readonly issueTimes = new IssueTimes();
  /** Per live slave id. */
  private readonly lanes = new Map<number, SlaveLane>();
  /** Tracks by "host:slot": a restarted slave continues its slot's track. */
  private readonly tracks = new Map<string, Track>();
  /** Tracks' last end, kept across restarts of a slot. */
  private readonly trackEnds: number[] = [];
  /** The run just answered or lost, until the op settles from it (then it is the final run) or the next hook. */
  private readonly run: OpRun;
  private pending = false;
  private readonly settled: SettledOp;
  private readonly contextRun: ContextRun;
  private ended = false;

  constructor(private readonly sinks: readonly TimelineSink[]) {
    const track: Track = { id: -1, host: "", slot: 0, label: "" };
    this.run = { track, opId: 0, nameIndex: 0, attempt: 0, startMs: 0, serviceUs: 0, waitUs: 0, outcome: "ok", final: false, payload: EMPTY, input: null, error: null };
    this.settled = { opId: 0, nameIndex: 0, run: null, ok: true, error: null, payload: EMPTY, input: null };
    this.contextRun = { track, seq: 0, nameIndex: 0, replay: false, startMs: 0, endMs: 0, error: null };
  }

  runStarted(workerNames: readonly string[], contextNames: readonly string[], now: number): void {
    const info = { workerNames, contextNames, startMs: now, epochMs: Date.now() };
    for (const sink of this.sinks) sink.begin(info);
  }

  // ---------------------------------------------------------------- worker ops

  opIssued(op: WorkerOp, now: number): void {
    if (this.pending) this.flush();
    this.issueTimes.issued(op.id, now);
  }

  opAnswered(op: WorkerOp, slave: SlaveState, attempt: number, serviceUs: number, failed: boolean, late: boolean, now: number): void {
    if (this.pending) this.flush();
    const lane = this.lane(slave);
    const start = Math.max(lane.lastEnd, now - serviceUs / 1000);
    lane.lastEnd = start + serviceUs / 1000;
    this.trackEnds[lane.track.id] = lane.lastEnd;
    this.place(op, lane.track, attempt, start, serviceUs, late ? "late" : failed ? "error" : "ok");
    if (late) this.flush();
    else this.pending = true;
  }

  opLost(op: WorkerOp, slave: SlaveState, attempt: number, now: number): void {
    if (this.pending) this.flush();
    const lane = this.lane(slave);
    // It started when the slave was done with the run before it, or when it was issued if later.
    const issued = this.issueTimes.at(op.id);
    const start = Math.min(now, Math.max(lane.lastEnd, Number.isNaN(issued) ? lane.lastEnd : issued));
    lane.lastEnd = now;
    this.trackEnds[lane.track.id] = now;
    this.place(op, lane.track, attempt, start, (now - start) * 1000, "lost");
    this.pending = true;
  }

  opSettled(op: WorkerOp, error: Error | null): void {
    const fromRun = this.pending && this.run.opId === op.id;
    const settled = this.settled;
    settled.opId = op.id;
    settled.nameIndex = op.nameIndex;
    settled.ok = error === null;
    settled.error = error === null ? null : oneLine(error);
    settled.input = null;
    if (fromRun) {
      const run = this.run;
      run.final = true;
      run.error = settled.error;
      this.pending = false;
      for (const sink of this.sinks) sink.opRun(run);
      settled.run = run;
      settled.payload = run.payload;
    } else {
      if (this.pending) this.flush();
      settled.run = null;
      settled.payload = op.payload;
    }
    for (const sink of this.sinks) sink.opSettled(settled);
    this.issueTimes.settled(op.id);
  }

  // ---------------------------------------------------------------- context ops

  contextSent(entry: ContextOp, slave: SlaveState, replay: boolean, now: number): void {
    if (this.pending) this.flush();
    this.lane(slave).contexts.push({ seq: entry.seq, nameIndex: entry.nameIndex, sentAt: now, replay });
  }

  contextAcked(seq: number, slave: SlaveState, error: Error | null, now: number): void {
    if (this.pending) this.flush();
    const lane = this.lane(slave);
    const sent = lane.contexts[0];
    if (sent === undefined || sent.seq !== seq) return;
    lane.contexts.shift();
    const run = this.contextRun;
    run.track = lane.track;
    run.seq = seq;
    run.nameIndex = sent.nameIndex;
    run.replay = sent.replay;
    run.startMs = Math.max(lane.lastEnd, sent.sentAt);
    run.endMs = Math.max(run.startMs, now);
    run.error = error === null ? null : oneLine(error);
    lane.lastEnd = run.endMs;
    this.trackEnds[lane.track.id] = run.endMs;
    for (const sink of this.sinks) sink.contextRun(run);
  }

  // ---------------------------------------------------------------- the rest of the run

  event(event: RuntimeEvent, now: number): void {
    if (this.pending) this.flush();
    switch (event.kind) {
      case "slave.up": {
        const track = this.trackOf(event.host, event.slot);
        return this.instant(event.catchUp ? "slave up (catch-up)" : "slave up", track, event.host, now, { slave: event.slave, pid: event.pid });
      }
      case "slave.lost": {
        this.lanes.delete(event.slave);
        const track = this.trackOf(event.host, event.slot);
        return this.instant("slave lost", track, event.host, now, { slave: event.slave, reason: event.reason, requeued: event.requeued });
      }
      case "agent.up":
        return this.instant("agent up", null, event.host, now, { slots: event.slots, node: event.hello.node });
      case "agent.lost":
        return this.instant("agent lost", null, event.host, now, { reason: event.reason, wasUp: event.wasUp });
      case "agent.retry":
        return this.instant("agent retry", null, event.host, now, { attempt: event.attempt, delayMs: event.delayMs });
      case "host.aside":
        return this.instant("host set aside", null, event.host, now, { reason: event.reason });
      case "op.poisoned":
        return this.instant("op poisoned", null, null, now, { error: event.error.message });
      case "fatal":
        return this.instant("run failed", null, null, now, { error: event.error.message });
      case "log":
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  sharedSet(key: string, now: number): void {
    if (this.pending) this.flush();
    this.instant("shared.set", null, null, now, { key });
  }

  sharedFetched(host: string, hash: string, bytes: number, startedAt: number, ok: boolean, now: number): void {
    if (this.pending) this.flush();
    for (const sink of this.sinks) sink.sharedFetch(host, hash, bytes, startedAt, now, ok);
  }

  /** A sample of the master's queue (ops waiting to be sent) and of the ops on slaves. */
  sample(queued: number, running: number, now: number): void {
    for (const sink of this.sinks) sink.counter(now, queued, running);
  }

  /** The run is over: every sink writes out what it holds. Safe to call twice. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.pending) this.flush();
    for (const sink of this.sinks) sink.end();
  }

  // ---------------------------------------------------------------- inside

  private place(op: WorkerOp, track: Track, attempt: number, start: number, serviceUs: number, outcome: OpRun["outcome"]): void {
    const run = this.run;
    run.track = track;
    run.opId = op.id;
    run.nameIndex = op.nameIndex;
    run.attempt = attempt;
    run.startMs = start;
    run.serviceUs = serviceUs;
    const issued = this.issueTimes.at(op.id);
    run.waitUs = Number.isNaN(issued) ? 0 : Math.max(0, (start - issued) * 1000);
    run.outcome = outcome;
    run.final = false;
    // Its picture is made by the sinks (off the master's thread when they run in the writer thread).
    run.payload = op.payload;
    run.input = null;
    run.error = null;
  }

  /** The pending run did not settle its op (a retry follows, or the op goes back to the queue). */
  private flush(): void {
    this.pending = false;
    const run = this.run;
    if (run.outcome === "error") run.outcome = "retried";
    for (const sink of this.sinks) sink.opRun(run);
  }

  private lane(slave: SlaveState): SlaveLane {
    let lane = this.lanes.get(slave.id);
    if (lane === undefined) {
      const track = this.trackOf(slave.host.name, slave.slot);
      lane = { track, lastEnd: this.trackEnds[track.id] ?? 0, contexts: [] };
      this.lanes.set(slave.id, lane);
    }
    return lane;
  }

  private trackOf(host: string, slot: number): Track {
    const label = `${host}:${slot}`;
    let track = this.tracks.get(label);
    if (track === undefined) this.tracks.set(label, (track = { id: this.tracks.size, host, slot, label }));
    return track;
  }

  private instant(name: string, track: Track | null, host: string | null, atMs: number, args: Record<string, string | number | boolean>): void {
    for (const sink of this.sinks) sink.instant({ name, track, host, atMs, args });
  }
}

const EMPTY = new Uint8Array(0);

/** An error's message on one line, bounded. */
function oneLine(error: Error): string {
  const line = String(error.message ?? error).split("\n", 1)[0]!;
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
