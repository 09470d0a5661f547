// In-process stand-ins for the scheduler's unit tests: a clock whose time the test moves by hand,
// a SlavePort that records every call and models each slave's FIFO channel (context ops applied in
// order, ops answered in order, cancels as the op runner honours them), and builders for records.
import { AbortError } from "../../../core/errors.ts";
import type { Clock, SlavePort } from "../../../core/runtime/scheduler/ports.ts";
import type { Scheduler } from "../../../core/runtime/scheduler/scheduler.ts";
import { OpState, type ContextOp, type HostState, type OpSettler, type SlaveState, type TagSet, type WorkerOp } from "../../../core/runtime/scheduler/types.ts";

// ---------------------------------------------------------------- clock

interface FakeTimer {
  at: number;
  seq: number;
  action: () => void;
  keepAlive: boolean;
}

/** Time moves only when the test says so; `soon` actions wait until `flush` (or `advance`). */
export class FakeClock implements Clock {
  time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();
  private readonly soonQueue: Array<() => void> = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, action: () => void, keepAlive = false): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, seq: id, action, keepAlive });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  soon(action: () => void): void {
    this.soonQueue.push(action);
  }

  /** Runs every `soon` action, including those queued while running. */
  flush(): void {
    while (this.soonQueue.length > 0) this.soonQueue.shift()!();
  }

  get soonPending(): number {
    return this.soonQueue.length;
  }

  /** Moves time forward by `ms`, firing due timers in order (and flushing `soon` after each). */
  advance(ms: number): void {
    const target = this.time + ms;
    this.flush();
    for (;;) {
      let next: [number, FakeTimer] | null = null;
      for (const entry of this.timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].action();
      this.flush();
    }
    this.time = target;
  }

  /** Timers set and not fired or cleared (those the process would wait for, with `keepAlive`). */
  pendingTimers(keepAlive?: boolean): number {
    let n = 0;
    for (const timer of this.timers.values()) if (keepAlive === undefined || timer.keepAlive === keepAlive) n++;
    return n;
  }
}

// ---------------------------------------------------------------- settling

/** A recording OpSettler: how the program's promise ended, and how many times something tried to end it. */
export class Outcome implements OpSettler {
  calls = 0;
  state: "pending" | "resolved" | "rejected" | "abandoned" = "pending";
  value: unknown = undefined;
  error: Error | null = null;

  resolve(value: unknown): void {
    this.calls++;
    if (this.state !== "pending") return;
    this.state = "resolved";
    this.value = value;
  }

  reject(error: Error): void {
    this.calls++;
    if (this.state !== "pending") return;
    this.state = "rejected";
    this.error = error;
  }

  abandon(error: Error): void {
    this.calls++;
    if (this.state !== "pending") return;
    this.state = "abandoned";
    this.error = error;
  }
}

// ---------------------------------------------------------------- records

export function makeHost(name: string, tags: readonly string[] = [], slots = 2): HostState {
  return {
    name,
    tags: new Set(tags),
    wantedSlots: slots,
    status: "up",
    slots,
    slaves: new Set(),
    agentFailures: 0,
    slaveFailures: 0,
    startFailures: 0,
    starts: { agentStartupMs: 0, slowestStartMs: 0 },
    lastFailure: null,
    room: null,
    inputLimit: Infinity,
  };
}

export function makeSlave(id: number, host: HostState, fields: Partial<SlaveState> = {}): SlaveState {
  // Asserted, not annotated: a field the scheduler adds later starts out undefined here.
  const slave = {
    id,
    slot: host.slaves.size,
    host,
    status: "ready",
    pid: 1000 + id,
    inflight: new Map(),
    ctxSent: 0,
    catchingUp: false,
    surplus: false,
    inPool: false,
    killedBecause: null,
    isolating: null,
    givingUp: null,
    depth: 2,
    serviceUs: 0,
  } as SlaveState;
  Object.assign(slave, fields);
  host.slaves.add(slave);
  return slave;
}

export function makeOp(id: number, fields: Partial<Omit<WorkerOp, "kind" | "id">> = {}): WorkerOp {
  return {
    kind: "worker",
    id,
    nameIndex: 0,
    payload: new Uint8Array(0),
    epoch: 0,
    ctxVersion: 0,
    tags: null,
    inputBytes: 0,
    refusals: null,
    state: OpState.Waiting,
    attempt: 0,
    retriesLeft: 0,
    deaths: null,
    slave: null,
    timer: null,
    timedOut: false,
    timeoutMs: undefined,
    settle: new Outcome(),
    ...fields,
  };
}

export function makeContext(seq: number, settle: OpSettler = new Outcome()): ContextOp {
  return { kind: "context", seq, nameIndex: 0, payload: new Uint8Array(0), pending: new Set(), applied: false, error: null, settled: false, settle };
}

export function tagSet(...tags: string[]): TagSet {
  return { key: [...tags].sort().join(","), tags: [...tags].sort(), notOn: null };
}

// ---------------------------------------------------------------- port

export type PortCall =
  | { kind: "connect"; host: string }
  | { kind: "disconnect"; host: string }
  | { kind: "spawn"; host: string; slave: number; slot: number }
  | { kind: "op"; host: string; slave: number; op: number; attempt: number; ctxVersion: number }
  | { kind: "context"; host: string; slave: number; seq: number }
  | { kind: "cancel"; host: string; slave: number; op: number }
  | { kind: "kill"; host: string; slave: number };

type Queued = { kind: "op"; op: WorkerOp; ctxVersion: number; attempt: number } | { kind: "context"; seq: number };

/** What one slave process holds, as the op runner would: its channel's entries in order. */
export interface FakeSlave {
  id: number;
  host: string;
  slot: number;
  queue: Queued[];
  /** Ops cancelled before they started: answered with an AbortError without running. */
  cancelled: Set<number>;
  /** The running op (the first queued op) was cancelled: it answers with an AbortError. */
  runningAborted: boolean;
  /** Context ops applied. */
  applied: number;
  /** Each op run: its id and the context version it saw. */
  ran: Array<{ op: number; sawVersion: number; wanted: number }>;
  ready: boolean;
  dead: boolean;
}

/** Records every call; spawned slaves get a model of their channel that `answer` plays out. */
export class RecordingPort implements SlavePort {
  readonly calls: PortCall[] = [];
  readonly slaves = new Map<number, FakeSlave>();
  /** The start-up limit each slave was spawned with. */
  readonly startLimits = new Map<number, number>();

  connect(host: string): void {
    this.calls.push({ kind: "connect", host });
  }

  disconnect(host: string): void {
    this.calls.push({ kind: "disconnect", host });
  }

  spawn(host: string, slave: number, slot: number, startLimitMs: number): void {
    this.calls.push({ kind: "spawn", host, slave, slot });
    this.startLimits.set(slave, startLimitMs);
    this.slaves.set(slave, { id: slave, host, slot, queue: [], cancelled: new Set(), runningAborted: false, applied: 0, ran: [], ready: false, dead: false });
  }

  sendOp(host: string, slave: number, op: WorkerOp): void {
    this.calls.push({ kind: "op", host, slave, op: op.id, attempt: op.attempt, ctxVersion: op.ctxVersion });
    this.slaves.get(slave)?.queue.push({ kind: "op", op, ctxVersion: op.ctxVersion, attempt: op.attempt });
  }

  sendContext(host: string, slave: number, entry: ContextOp): void {
    this.calls.push({ kind: "context", host, slave, seq: entry.seq });
    this.slaves.get(slave)?.queue.push({ kind: "context", seq: entry.seq });
  }

  cancel(host: string, slave: number, opId: number): void {
    this.calls.push({ kind: "cancel", host, slave, op: opId });
    const model = this.slaves.get(slave);
    if (!model) return;
    const first = model.queue.find((q) => q.kind === "op");
    // As the op runner: the running op sees its signal abort; a queued one is skipped when its turn comes.
    if (first?.kind === "op" && first.op.id === opId && model.queue[0] === first) model.runningAborted = true;
    else model.cancelled.add(opId);
  }

  kill(host: string, slave: number): void {
    this.calls.push({ kind: "kill", host, slave });
  }

  of<K extends PortCall["kind"]>(kind: K): Array<Extract<PortCall, { kind: K }>> {
    return this.calls.filter((call): call is Extract<PortCall, { kind: K }> => call.kind === kind);
  }

  /** Ops sent so far, in order, as "slave:op". */
  sent(): string[] {
    return this.of("op").map((call) => `${call.slave}:${call.op}`);
  }

  clear(): void {
    this.calls.length = 0;
  }
}

/** The value a modelled slave answers for an op (what the tests expect back). */
export const valueOf = (op: number) => `result of op ${op}`;

/**
 * Drives a scheduler through the port's slave models: slaves become ready, apply context ops and
 * answer ops in their channel's order, die. Every op run is checked to see exactly the context
 * version it was issued at.
 */
export class Cluster {
  /** Context ops (by sequence number) that throw on every slave, with this message. */
  readonly contextFails = new Map<number, string>();

  constructor(
    readonly scheduler: Scheduler,
    readonly port: RecordingPort,
    readonly clock: FakeClock,
  ) {}

  /** Every spawned slave not ready yet becomes ready. */
  readyAll(): number[] {
    const ids: number[] = [];
    for (const model of this.port.slaves.values()) {
      if (model.ready || model.dead) continue;
      model.ready = true;
      ids.push(model.id);
      this.scheduler.slaveReady(model.id, 1000 + model.id);
    }
    this.clock.flush();
    return ids;
  }

  /**
   * The slave works through its channel: context ops are applied and acknowledged, up to `ops`
   * worker ops are answered (`fail` decides which throw). Stops at the first op beyond `ops`.
   * Ops of 5 ms by default, so pipelines keep their depth of 2.
   */
  answer(slave: number, ops = Infinity, fail: (op: WorkerOp) => Error | null = () => null, serviceUs = 5000): number {
    const model = this.port.slaves.get(slave)!;
    let answered = 0;
    while (model.queue.length > 0) {
      const next = model.queue[0]!;
      if (next.kind === "context") {
        model.queue.shift();
        model.applied = next.seq;
        const message = this.contextFails.get(next.seq);
        this.scheduler.contextAck(slave, next.seq, message === undefined ? null : new Error(`${message} (slave ${slave})`));
        continue;
      }
      if (answered >= ops) break;
      model.queue.shift();
      answered++;
      const id = next.op.id;
      if (model.cancelled.delete(id)) {
        this.scheduler.result(slave, id, 1, true, () => {
          throw new AbortError("the op was cancelled");
        });
        continue;
      }
      model.ran.push({ op: id, sawVersion: model.applied, wanted: next.ctxVersion });
      const aborted = model.runningAborted;
      model.runningAborted = false;
      const error = aborted ? new AbortError("the op was cancelled") : fail(next.op);
      this.scheduler.result(slave, id, serviceUs, error !== null, () => {
        if (error) throw error;
        return valueOf(id);
      });
    }
    return answered;
  }

  /** Answers everything on every slave, then lets the scheduler dispatch, until nothing moves. */
  settleAll(rounds = 100): void {
    for (let i = 0; i < rounds; i++) {
      this.clock.flush();
      let moved = 0;
      for (const model of this.port.slaves.values()) if (model.ready && !model.dead) moved += this.answer(model.id);
      this.clock.flush();
      if (moved === 0) return;
    }
  }

  /** Slaves the port was told to kill end, as their agent reports it. Returns their ids. */
  reap(): number[] {
    const ids: number[] = [];
    for (const call of this.port.of("kill")) {
      const model = this.port.slaves.get(call.slave);
      if (!model || model.dead) continue;
      ids.push(call.slave);
      this.exit(call.slave, "killed by SIGKILL", false);
    }
    return ids;
  }

  /**
   * Runs the cluster until nothing moves: slaves answer, killed slaves end, time passes in steps of
   * `stepMs` (restarts after their backoff), new slaves get ready.
   */
  drive(stepMs = 5000, rounds = 20): void {
    for (let i = 0; i < rounds; i++) {
      const before = this.port.calls.length;
      this.settleAll();
      this.reap();
      this.clock.advance(stepMs);
      this.readyAll();
      this.settleAll();
      if (this.port.calls.length === before) return;
    }
  }

  /** The slave process ends (the agent reports its exit). */
  exit(slave: number, described = "killed by SIGSEGV", fromOutside = false, runningOp?: number | null): void {
    this.port.slaves.get(slave)!.dead = true;
    this.scheduler.slaveExited(slave, described, fromOutside, runningOp);
    this.clock.flush();
  }

  /** The host's agent is lost, and its slaves with it. */
  agentLost(host: string, reason = "connection reset", hopeless = false): void {
    for (const model of this.port.slaves.values()) if (model.host === host) model.dead = true;
    this.scheduler.hostFailed(host, reason, hopeless);
    this.clock.flush();
  }

  /** Ops that ran at a context version other than the one they were issued at (should be none). */
  versionViolations(): string[] {
    const out: string[] = [];
    for (const model of this.port.slaves.values()) for (const run of model.ran) if (run.sawVersion !== run.wanted) out.push(`op ${run.op} on slave ${model.id}: saw ${run.sawVersion}, wanted ${run.wanted}`);
    return out;
  }

  /** Live (ready, not dead) slaves of a host, by id. */
  slavesOf(host: string): number[] {
    const out: number[] = [];
    for (const model of this.port.slaves.values()) {
      if (model.host === host && !model.dead) out.push(model.id);
    }
    return out;
  }
}
