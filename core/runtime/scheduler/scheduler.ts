// The master's scheduler as a state machine: events in (ops issued, hosts up or failed, slaves
// ready or gone, results, acknowledgements, clock ticks), decisions out through a SlavePort. No
// I/O and no timers of its own: the host supervisor drives it with real agents, the simulator
// (test/sim) with thousands of simulated ones on a virtual clock.
import { AbortError, MntError, type TimeoutError } from "../../errors.ts";
import { INPUT_COPIES, isHostLimitError, largestFitting, whyNoRoom, type HostRoom } from "../../protocol/host-room.ts";
import { opPayloadBytes } from "../../protocol/op-frames.ts";
import type { PoisonOpError } from "../recovery.ts";
import { ContextLog } from "./context-log.ts";
import { Dispatcher } from "./dispatcher.ts";
import { HostHealth, type HealthOptions, type HostVerdict } from "./host-health.ts";
import { OpLedger } from "./op-ledger.ts";
import { OpQueue } from "./op-queue.ts";
import type { OpObserver } from "./op-observer.ts";
import { OpRecord } from "./op-record.ts";
import type { Clock, SlavePort } from "./ports.ts";
import { SlavePool, type PipelineOptions } from "./slave-pool.ts";
import { slaveStartLimitMs } from "./start-limit.ts";
import { OpState, TagSets, hostHasTags, type ContextOp, type HostState, type OpSettler, type SlaveState, type TagSet, type WorkerOp } from "./types.ts";

export interface SchedulerOptions extends HealthOptions, PipelineOptions {
  workerNames: readonly string[];
  contextNames: readonly string[];
  /** After an op timed out or was cancelled, its slave has this long to give up before it is killed. */
  hangGraceMs: number;
  /** With no host up, how long to wait for one to come back before the run fails. */
  waitForHostsMs: number;
  /** Default timeout of every worker op (ms). */
  opTimeoutMs?: number;
}

export type SchedulerEvent =
  | { kind: "agent.retry"; host: string; attempt: number; delayMs: number }
  | { kind: "host.aside"; host: string; reason: string }
  /** `catchUp`: an extra slave started to re-run ops at an older context version; it stops afterwards. */
  | { kind: "slave.up"; host: string; slot: number; slave: number; pid: number; catchUp: boolean }
  | { kind: "slave.lost"; host: string; slot: number; slave: number; reason: string; requeued: number }
  | { kind: "op.poisoned"; error: PoisonOpError }
  | { kind: "fatal"; error: MntError };

/** What the scheduler needs besides the port and the clock. */
export interface SchedulerHooks {
  emit(event: SchedulerEvent): void;
  /** An op settled: the shared-data epoch it held is released. */
  released(op: WorkerOp): void;
  /** A short picture of an op's input, for the poison error. */
  describeInput(op: WorkerOp): string;
  /** Told about every op's life (--trace, --joblog); absent: the hooks cost one null check each. */
  observer?: OpObserver | null;
}

export interface WorkerRequest {
  nameIndex: number;
  payload: Uint8Array;
  epoch: number;
  retries?: number;
  timeout?: number;
  tags?: readonly string[];
}

export class Scheduler {
  private readonly hosts = new Map<string, HostState>();
  private readonly slaves = new Map<number, SlaveState>();
  /** Slaves not ready yet: each will catch up through the stale ops when it is (see Dispatcher.ensureCatchUp). */
  private readonly starting = new Set<SlaveState>();
  private readonly queue = new OpQueue();
  private readonly log = new ContextLog();
  private readonly pool: SlavePool;
  private readonly dispatcher: Dispatcher;
  private readonly ledger: OpLedger;
  private readonly health: HealthOptions & { policy: HostHealth };
  private readonly tagSets = new TagSets();
  /** Whether some host has a tag set (and one not set aside); forgotten when a host is added or set aside. */
  private readonly hostsWithTags = new Map<TagSet, { any: boolean; notAside: boolean }>();
  /** At most the smallest input any host takes (hostRoom): a larger op's input is checked against every host at issue. */
  private smallestInputLimit = Infinity;
  private nextSlaveId = 1;
  private nextOpId = 1;
  private pumpScheduled = false;
  private closing = false;
  fatalError: MntError | null = null;
  private noHostsTimer: unknown = null;
  private readonly keepAliveTimers = new Set<unknown>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly counters = { slavesStarted: 0, slavesLost: 0, workerRerun: 0, workerPoisoned: 0 };
  private readonly observer: OpObserver | null;

  constructor(
    private readonly options: SchedulerOptions,
    private readonly port: SlavePort,
    private readonly clock: Clock,
    private readonly hooks: SchedulerHooks,
  ) {
    this.pool = new SlavePool(options);
    this.observer = hooks.observer ?? null;
    this.health = { ...options, policy: new HostHealth(options) };
    this.ledger = new OpLedger(
      clock,
      (op) => hooks.released(op),
      (op, error) => this.timedOut(op, error),
      (op) => this.opName(op),
      this.observer,
    );
    this.dispatcher = new Dispatcher(this.queue, this.pool, this.log, {
      sendOp: (op, slave) => this.sendOp(op, slave),
      sendContext: (entry, slave, replay) => {
        this.port.sendContext(slave.host.name, slave.id, entry);
        if (this.observer !== null) this.observer.contextSent(entry, slave, replay, this.clock.now());
      },
      spawnCatchUp: (host) => this.spawnSlave(host, extraSlot(host), true),
      retire: (slave) => this.retire(slave),
      fits: (op, slave) => this.inputFits(op, slave.host),
      hosts: () => this.hostsNotAside(),
      slaves: () => this.starting.values(),
    });
  }

  // ---------------------------------------------------------------- issuing

  issueWorker(request: WorkerRequest, settle: OpSettler): WorkerOp {
    const op = new OpRecord({
      id: this.nextOpId++,
      nameIndex: request.nameIndex,
      payload: request.payload,
      epoch: request.epoch,
      ctxVersion: this.log.version,
      tags: this.tagSets.of(request.tags),
      retriesLeft: request.retries ?? 0,
      timeoutMs: request.timeout ?? this.options.opTimeoutMs,
      settle,
    });
    this.ledger.issued();
    if (this.observer !== null) this.observer.opIssued(op, this.clock.now());
    if (op.tags && !this.someHostHas(op.tags, true)) {
      this.ledger.reject(op, new MntError("placement", `${this.opName(op)} asks for hosts tagged ${op.tags.tags.join(", ")}, and no host in the inventory has ${op.tags.tags.length === 1 ? "that tag" : "all of them"}`, "add the tags to a host in hosts.yaml, or drop them from the op"));
      return op;
    }
    if (op.tags && !this.someHostHas(op.tags, false)) {
      // Only hosts already set aside have them: nothing would ever take it (setAside rejected the others).
      const why = [...this.hosts.values()].filter((host) => hostHasTags(host, op.tags)).map((host) => `${host.name}: ${host.lastFailure}`);
      this.ledger.reject(op, new MntError("placement", `${this.opName(op)} asks for hosts tagged ${op.tags.tags.join(", ")}, and every such host was set aside (${why.join("; ")})`, "fix those hosts, then run again"));
      return op;
    }
    // Only an input larger than what some host can take costs a look at every host.
    if (op.inputBytes > this.smallestInputLimit && !this.refuseWhereTooLarge(op)) return op;
    this.queue.push(op);
    this.pumpSoon();
    return op;
  }

  issueContext(nameIndex: number, payload: Uint8Array, settle: OpSettler): ContextOp {
    const entry = this.log.append((seq) => ({ kind: "context", seq, nameIndex, payload, pending: new Set(), applied: false, error: null, settled: false, settle }));
    this.queue.push(entry);
    this.pumpSoon();
    return entry;
  }

  /** Cancels an op: a queued one never runs; a running one's slave sees op.signal abort. */
  cancel(op: WorkerOp, error: Error): void {
    if (op.state === OpState.Settled) return;
    const slave = op.slave;
    if (slave && slave.status !== "dead") {
      this.port.cancel(slave.host.name, slave.id, op.id);
      // It stays in the slave's in-flight set until the slave answers, so the pipeline count stays true.
      this.watchForHang(slave, op);
    }
    this.dispatcher.forget(op);
    this.ledger.reject(op, error);
    this.checkIdle();
  }

  // ---------------------------------------------------------------- hosts

  addHost(name: string, slots: number | "auto", tags: readonly string[] = []): void {
    const host: HostState = {
      name,
      tags: new Set(tags),
      wantedSlots: slots,
      status: "connecting",
      slots: 0,
      slaves: new Set(),
      agentFailures: 0,
      slaveFailures: 0,
      startFailures: 0,
      starts: { agentStartupMs: 0, slowestStartMs: 0 },
      lastFailure: null,
      room: null,
      inputLimit: Infinity,
    };
    this.hosts.set(name, host);
    this.hostsWithTags.clear();
    this.port.connect(name);
  }

  /**
   * The host's agent is connected (`cores`: its core count, for "auto" slots; `agentStartupMs`:
   * how long the agent took to start, which its slaves' start-up limit grows with).
   */
  hostUp(name: string, cores: number, agentStartupMs = 0): void {
    const host = this.hosts.get(name);
    if (!host || host.status !== "connecting" || this.closing) return;
    host.status = "up";
    host.starts.agentStartupMs = agentStartupMs;
    host.slots = host.wantedSlots === "auto" ? cores : host.wantedSlots;
    this.clearNoHostsTimer();
    for (let slot = 0; slot < host.slots; slot++) this.spawnSlave(host, slot, false);
  }

  /**
   * The host's agent connection failed or ended: its slaves are lost; reconnect after a backoff,
   * or set the host aside. `hopeless`: the failure cannot heal by reconnecting.
   */
  hostFailed(name: string, reason: string, hopeless: boolean): void {
    const host = this.hosts.get(name);
    if (!host || host.status === "aside") return;
    host.lastFailure = reason;
    host.status = "connecting";
    for (const slave of [...host.slaves]) this.slaveLost(slave, `agent lost: ${reason}`, false);
    if (this.closing) return;
    const verdict = this.health.policy.agentFailed(host, reason, hopeless);
    if (verdict.kind === "aside") return this.setAside(host, verdict.reason);
    this.hooks.emit({ kind: "agent.retry", host: name, attempt: host.agentFailures + 1, delayMs: verdict.delayMs });
    this.later(verdict.delayMs, () => {
      if (host.status === "connecting") this.port.connect(name);
    });
    this.checkHostsLeft();
  }

  /**
   * What the host can hold, from its agent's hello (before hostUp; again on each reconnection): an
   * op's input goes only to hosts that can hold it (`inputFits`).
   */
  hostRoom(name: string, room: HostRoom): void {
    const host = this.hosts.get(name);
    if (!host) return;
    host.room = room;
    host.inputLimit = largestFitting(INPUT_COPIES, room) - opPayloadBytes(0);
    // Never raised (a host back with more room): a stale low mark only costs a look at each host's own limit.
    this.smallestInputLimit = Math.min(this.smallestInputLimit, host.inputLimit);
  }

  /** Takes a host out of the run; the others go on. */
  setAside(host: HostState, reason: string): void {
    if (host.status === "aside") return;
    host.status = "aside";
    this.hostsWithTags.clear();
    host.lastFailure = reason;
    for (const slave of [...host.slaves]) this.slaveLost(slave, `host set aside: ${reason}`, false);
    this.port.disconnect(host.name);
    if (this.closing) return;
    this.hooks.emit({ kind: "host.aside", host: host.name, reason });
    // Ops only this host could take can no longer run: those parked, and those queued (among them
    // the ops its slaves had in flight, just put back at the front of the queue).
    const unservable = this.dispatcher.takeUnservable();
    for (const entry of this.queue) {
      if (entry.kind === "worker" && entry.tags !== null && entry.state !== OpState.Settled && !this.someHostHas(entry.tags, false)) unservable.push(entry);
    }
    for (const op of unservable) {
      this.ledger.reject(op, op.refusals !== null ? this.noRoomError(op) : new MntError("placement", `${this.opName(op)} asks for hosts tagged ${op.tags!.tags.join(", ")}, and every such host was set aside (last: ${host.name}: ${reason})`, "fix those hosts, then run again"));
    }
    this.checkHostsLeft();
    this.pumpSoon();
  }

  // ---------------------------------------------------------------- slaves

  slaveReady(id: number, pid: number): void {
    const slave = this.slaves.get(id);
    if (!slave || slave.status !== "starting") return;
    slave.status = "ready";
    this.starting.delete(slave);
    slave.pid = pid;
    const starts = slave.host.starts;
    starts.slowestStartMs = Math.max(starts.slowestStartMs, this.clock.now() - slave.spawnedAt);
    this.health.policy.slaveStarted(slave.host);
    this.counters.slavesStarted++;
    this.hooks.emit({ kind: "slave.up", host: slave.host.name, slot: slave.slot, slave: id, pid, catchUp: slave.surplus });
    this.dispatcher.advance(slave);
    this.pumpSoon();
  }

  /**
   * A slave process ended; `fromOutside`: a signal someone else sent (not its op's fault).
   * `runningOp`: the worker op it said it was running (null: none, or a context op); when not
   * known, its oldest unanswered op is taken to be the one.
   */
  slaveExited(id: number, described: string, fromOutside: boolean, runningOp?: number | null): void {
    const slave = this.slaves.get(id);
    if (!slave) return;
    if (slave.killedBecause) return this.slaveLost(slave, `killed by the master: ${slave.killedBecause}`, false);
    this.slaveLost(slave, described, !fromOutside, runningOp);
  }

  /** Has the agent kill a slave; its end is then not blamed on the op it was running. */
  killSlave(slave: SlaveState, because: string): void {
    if (slave.status === "dead" || slave.killedBecause) return;
    slave.killedBecause = because;
    this.port.kill(slave.host.name, slave.id);
  }

  // ---------------------------------------------------------------- results

  /**
   * A slave answered op `opId` after `serviceUs` of work. `read` gives the value, or throws the
   * error to settle the op with; it is called only when the op still wants a result.
   */
  result(slaveId: number, opId: number, serviceUs: number, failed: boolean, read: () => unknown): void {
    const slave = this.slaves.get(slaveId);
    if (!slave) return; // from a slave already declared lost: its ops were re-queued
    const op = slave.inflight.get(opId);
    if (!op) return;
    slave.inflight.delete(opId);
    // Next on this slave may be an op cancelled (or timed out) while it waited there, which
    // watchForHang passed by: the slave runs it (or skips it) now, and must not hang in it.
    const next = slave.inflight.values().next().value;
    if (next !== undefined && next.state === OpState.Settled) this.watchGrace(slave, next);
    if (slave.isolating === op) slave.isolating = null;
    if (slave.givingUp === op) {
      // It gave up the cancelled op in time: back to work, at the current context version. Unless
      // ops taken back from it are still to run: they were cancelled there by their op id, and a
      // copy sent to it again could be skipped on that cancel, its skip answer taken for the
      // copy's result. It is replaced instead.
      slave.givingUp = null;
      const owes = slave.revoked?.some((other) => other.state !== OpState.Settled) ?? false;
      slave.revoked = null;
      if (owes) this.killSlave(slave, "ops were taken back from it after a cancel");
      else if (slave.status === "ready" && !slave.killedBecause) this.dispatcher.advance(slave);
    }
    this.pool.observe(slave, serviceUs);
    if (slave.surplus && !slave.catchingUp && slave.inflight.size === 0 && !slave.inPool) this.retire(slave);
    this.health.policy.progress(slave.host);
    this.ledger.unassigned(op);
    this.pool.offer(slave);
    const late = op.state === OpState.Settled;
    if (this.observer !== null) this.observer.opAnswered(op, slave, op.attempt, serviceUs, failed, late, this.clock.now());
    if (!late) this.settleFromSlave(op, slave, failed, read);
    this.pumpSoon();
  }

  contextAck(slaveId: number, seq: number, error: Error | null): void {
    if (this.observer !== null) {
      const slave = this.slaves.get(slaveId);
      if (slave) this.observer.contextAcked(seq, slave, error, this.clock.now());
    }
    if (this.log.acknowledge(seq, slaveId, error)) this.checkIdle();
  }

  // ---------------------------------------------------------------- run control

  /** Stops the run: every op not finished is rejected with `error`. */
  fatal(error: MntError): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.hooks.emit({ kind: "fatal", error });
    this.rejectEverything(error);
  }

  /** Stops dispatching for good and rejects what is left. */
  close(reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.rejectEverything(new AbortError(reason));
    for (const timer of this.keepAliveTimers) this.clock.clearTimer(timer);
    this.keepAliveTimers.clear();
    this.noHostsTimer = null;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Resolves when no op is queued or running and every context op has settled. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  get isIdle(): boolean {
    return this.ledger.outstanding === 0 && this.log.allSettled;
  }

  /** Ready slaves, for broadcasting shared data. */
  *readySlaves(): IterableIterator<{ host: string; id: number }> {
    for (const slave of this.slaves.values()) if (slave.status === "ready") yield { host: slave.host.name, id: slave.id };
  }

  /** Ops the pool's slaves can hold at once (their pipeline depths added up). */
  get pipelineCapacity(): number {
    return this.pool.capacity;
  }

  hostNames(status: "up" | "any" = "any"): string[] {
    return [...this.hosts.values()].filter((host) => status === "any" || host.status === "up").map((host) => host.name);
  }

  stats() {
    // Worker ops only, unsettled only: a queued context op or a cancelled op a slave has yet to skip is neither.
    const running = this.ledger.onSlaves;
    return {
      slaves: this.pool.size,
      slavesStarted: this.counters.slavesStarted,
      workerDone: this.ledger.counters.workerDone,
      workerQueued: this.ledger.outstanding - running,
      workerRunning: running,
      workerFailed: this.ledger.counters.workerFailed,
      workerRetried: this.ledger.counters.workerRetried,
      slavesLost: this.counters.slavesLost,
      workerRerun: this.counters.workerRerun,
      workerPoisoned: this.counters.workerPoisoned,
      contextOps: this.log.version,
    };
  }

  opName(op: WorkerOp): string {
    return this.options.workerNames[op.nameIndex] ?? `op #${op.nameIndex}`;
  }

  // ---------------------------------------------------------------- inside

  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.clock.soon(this.pump);
  }

  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (!this.closing && !this.fatalError) this.dispatcher.pump();
    this.checkIdle();
  };

  private sendOp(op: WorkerOp, slave: SlaveState): void {
    op.slave = slave;
    if (op.deaths !== null) slave.isolating = op;
    slave.inflight.set(op.id, op);
    this.ledger.sent(op);
    this.port.sendOp(slave.host.name, slave.id, op);
  }

  private settleFromSlave(op: WorkerOp, slave: SlaveState, failed: boolean, read: () => unknown): void {
    let outcome: unknown;
    try {
      outcome = read();
    } catch (error) {
      // The host could not hold a shared value the op read: it runs elsewhere (never there again).
      if (failed && isHostLimitError(error)) {
        if (this.refuse(op, slave.host, `${(error as Error).message} on ${slave.host.name}`)) {
          op.attempt++;
          this.dispatcher.requeue([op]);
        }
        return;
      }
      // The slave's error (failed) or a result that would not decode.
      if (failed && this.ledger.takeRetry(op)) return this.dispatcher.requeue([op]);
      return this.ledger.reject(op, failed ? (error as Error) : new MntError("protocol", `${slave.host.name}:${slave.slot}: result of ${this.opName(op)} could not be decoded: ${(error as Error).message}`));
    }
    this.ledger.resolve(op, outcome);
  }

  private timedOut(op: WorkerOp, error: TimeoutError): void {
    this.cancel(op, error);
  }

  /**
   * A cancelled or timed-out op that its slave is running must end soon; a slave still in it after
   * the grace period is stuck (a synchronous loop cannot see op.signal) and is replaced. An op only
   * waiting in the slave's pipeline is skipped by the slave when its turn comes.
   */
  private watchForHang(slave: SlaveState, op: WorkerOp): void {
    if (slave.inflight.keys().next().value !== op.id || slave.status !== "ready") return;
    // Until it gives up that op, the slave takes no new work, and the ops queued behind it run
    // elsewhere (should it come back after all, it skips them: they are cancelled there).
    this.pool.leave(slave);
    slave.givingUp = op;
    const behind: WorkerOp[] = [];
    for (const other of slave.inflight.values()) if (other !== op && other.state !== OpState.Settled) behind.push(other);
    for (const other of behind) {
      slave.inflight.delete(other.id);
      this.port.cancel(slave.host.name, slave.id, other.id);
      this.ledger.unassigned(other);
    }
    if (behind.length > 0) slave.revoked = behind;
    this.dispatcher.requeue(behind);
    this.pumpSoon();
    this.watchGrace(slave, op);
  }

  /** Kills the slave if it has not answered `op` (cancelled, running there now) within the grace period. */
  private watchGrace(slave: SlaveState, op: WorkerOp): void {
    const grace = this.options.hangGraceMs;
    this.clock.setTimer(grace, () => {
      if (slave.status !== "dead" && slave.inflight.has(op.id)) {
        this.killSlave(slave, `${this.opName(op)} (op ${op.id}) was still running ${grace} ms after it was ${op.timedOut ? "timed out" : "cancelled"}`);
      }
    });
  }

  private spawnSlave(host: HostState, slot: number, surplus: boolean): void {
    const slave: SlaveState = {
      id: this.nextSlaveId++,
      slot,
      host,
      status: "starting",
      pid: 0,
      inflight: new Map(),
      ctxSent: 0,
      catchingUp: false,
      surplus,
      inPool: false,
      killedBecause: null,
      isolating: null,
      givingUp: null,
      revoked: null,
      depth: 2,
      serviceUs: 0,
      spawnedAt: this.clock.now(),
      startLimitMs: slaveStartLimitMs(this.options.startTimeoutMs, host.starts),
    };
    this.slaves.set(slave.id, slave);
    this.starting.add(slave);
    host.slaves.add(slave);
    this.port.spawn(host.name, slave.id, slot, slave.startLimitMs);
  }

  private retire(slave: SlaveState): void {
    slave.surplus = true;
    this.pool.leave(slave);
    this.killSlave(slave, "retired after catching up");
  }

  /**
   * A slave is gone. Its in-flight ops go back to the front of the queue (the one it was running
   * takes the blame when `blame`, and fails once it has killed `poisonKills` slaves); its host
   * starts a replacement after a backoff, or is set aside when its slaves keep dying.
   */
  private slaveLost(slave: SlaveState, reason: string, blame: boolean, runningOp?: number | null): void {
    if (slave.status === "dead") return;
    const wasStarting = slave.status === "starting";
    // Still starting past its limit: the agent killed it for that (or it died just then, which is no better).
    const pastStartLimit = wasStarting && this.clock.now() - slave.spawnedAt >= slave.startLimitMs;
    const expected = slave.killedBecause !== null;
    slave.status = "dead";
    this.slaves.delete(slave.id);
    this.starting.delete(slave);
    slave.host.slaves.delete(slave);
    this.pool.leave(slave);
    const requeued = this.takeBack(slave, blame ? reason : null, runningOp);
    if (this.log.forget(slave.id).length > 0) this.checkIdle();
    const host = slave.host;
    if (this.closing) return this.pumpSoon();
    if (!(slave.surplus && expected)) {
      this.counters.slavesLost++;
      this.hooks.emit({ kind: "slave.lost", host: host.name, slot: slave.slot, slave: slave.id, reason, requeued });
    }
    if (host.status !== "up" || slave.surplus) {
      this.dispatcher.ensureCatchUp();
      return this.pumpSoon();
    }
    let verdict: HostVerdict = { kind: "retry", delayMs: 0 };
    if (!expected) verdict = this.health.policy.slaveDied(host, reason, wasStarting, pastStartLimit ? slave.startLimitMs : null);
    if (verdict.kind === "aside") return this.setAside(host, verdict.reason);
    this.later(verdict.delayMs, () => {
      // Unless a catch-up slave took the free slot meanwhile.
      if (host.status === "up" && ownSlaves(host) < host.slots) this.spawnSlave(host, slave.slot, false);
    });
    this.pumpSoon();
  }

  /**
   * In-flight ops of a lost slave go back to the queue, in issue order. With `blame` (the slave
   * died on its own, or hung), the op it was running is charged with the death: the one it said it
   * had started (`runningOp`), else its oldest unanswered one.
   */
  private takeBack(slave: SlaveState, blame: string | null, runningOp?: number | null): number {
    const inOrder = [...slave.inflight.values()];
    const running = runningOp === undefined ? inOrder[0] : runningOp === null ? undefined : slave.inflight.get(runningOp);
    slave.inflight.clear();
    if (this.observer !== null && running && running.state !== OpState.Settled) this.observer.opLost(running, slave, running.attempt, this.clock.now());
    let rerun = inOrder.filter((op) => op.state !== OpState.Settled);
    for (const op of rerun) this.ledger.unassigned(op);
    if (blame !== null && running && running.state !== OpState.Settled) {
      const poison = this.health.policy.chargeDeath(running, { where: `${slave.host.name}:${slave.slot}`, how: blame }, this.opName(running), () => this.hooks.describeInput(running));
      if (poison) {
        rerun = rerun.filter((op) => op !== running);
        this.counters.workerPoisoned++;
        this.hooks.emit({ kind: "op.poisoned", error: poison });
        this.ledger.reject(running, poison);
      }
    }
    rerun.sort((a, b) => a.id - b.id);
    for (const op of rerun) op.attempt++;
    this.counters.workerRerun += rerun.length;
    this.dispatcher.requeue(rerun);
    return rerun.length;
  }

  /**
   * Rejects every op not finished with the error that ends the run. The program may have left some
   * of them unawaited; their rejection is the run ending, not a fault of the program.
   */
  private rejectEverything(error: Error): void {
    for (const entry of this.queue.drain()) if (entry.kind === "worker") this.ledger.abandon(entry, error);
    for (const op of this.dispatcher.drainParked()) this.ledger.abandon(op, error);
    for (const slave of this.slaves.values()) for (const op of slave.inflight.values()) this.ledger.abandon(op, error);
    this.log.rejectAll(error);
    this.checkIdle();
  }

  /** With no host up the run waits (bounded) for one that is reconnecting, and fails when none is left. */
  private checkHostsLeft(): void {
    const hosts = [...this.hosts.values()];
    if (this.closing || this.fatalError || hosts.some((h) => h.status === "up")) return this.clearNoHostsTimer();
    const state = () => hosts.map((h) => `${h.name}: ${h.status === "aside" ? "set aside" : "reconnecting"} (${h.lastFailure ?? "no reason"})`).join("; ");
    if (hosts.every((h) => h.status === "aside")) {
      return this.fatal(new MntError("infrastructure", `no host is left to run on: ${state()}`, "fix the hosts, then run again"));
    }
    if (this.noHostsTimer !== null) return;
    this.noHostsTimer = this.later(this.options.waitForHostsMs, () => {
      this.noHostsTimer = null;
      if (hosts.some((h) => h.status === "up")) return;
      this.fatal(new MntError("infrastructure", `no host came back within ${this.options.waitForHostsMs} ms: ${state()}`, "fix the hosts, then run again"));
    });
  }

  private clearNoHostsTimer(): void {
    if (this.noHostsTimer !== null) {
      this.clock.clearTimer(this.noHostsTimer);
      this.keepAliveTimers.delete(this.noHostsTimer);
    }
    this.noHostsTimer = null;
  }

  /** Runs `action` after `ms` unless the run is stopping; the process waits for it. */
  private later(ms: number, action: () => void): unknown {
    const timer = this.clock.setTimer(
      ms,
      () => {
        this.keepAliveTimers.delete(timer);
        if (!this.closing) action();
      },
      true,
    );
    this.keepAliveTimers.add(timer);
    return timer;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Whether `op`'s input fits `host` (as the dispatcher is about to send it there). When it does
   * not, the host is refused for the op, which then waits for another host or fails (`refuse`).
   */
  private inputFits(op: WorkerOp, host: HostState): boolean {
    if (op.inputBytes <= host.inputLimit) return true;
    this.refuse(op, host, this.inputRefusal(op, host)!);
    return false;
  }

  /** Refuses `op` on every host known too small for its input; false when that leaves none (it was rejected). */
  private refuseWhereTooLarge(op: WorkerOp): boolean {
    for (const host of this.hosts.values()) {
      if (op.inputBytes > host.inputLimit && !this.refuse(op, host, this.inputRefusal(op, host)!)) return false;
    }
    return true;
  }

  private inputRefusal(op: WorkerOp, host: HostState): string | null {
    const why = host.room === null ? null : whyNoRoom(opPayloadBytes(op.inputBytes), INPUT_COPIES, host.room);
    return why === null ? null : `its input is ${why} on ${host.name}`;
  }

  /**
   * `host` cannot hold a value of `op` (`why` says which, how large, and the host's limit): the op
   * may no longer run there. Returns true while another host (up or coming) may take it; when none
   * can, the op fails with every host's reason and false is returned.
   */
  private refuse(op: WorkerOp, host: HostState, why: string): boolean {
    (op.refusals ??= []).push(why);
    op.tags = this.tagSets.excluding(op.tags, host.name);
    if (this.someHostHas(op.tags, false)) return true;
    this.ledger.reject(op, this.noRoomError(op));
    return false;
  }

  private noRoomError(op: WorkerOp): MntError {
    const tags = op.tags?.tags ?? [];
    const among = tags.length > 0 ? ` tagged ${tags.join(", ")}` : "";
    const refused = op.tags?.notOn ?? new Set<string>();
    const aside = [...this.hosts.values()].filter((host) => host.status === "aside" && !refused.has(host.name) && hostHasTags(host, op.tags)).map((host) => host.name);
    const rest = aside.length > 0 ? `; set aside: ${aside.join(", ")}` : "";
    return new MntError(
      "placement",
      `op \`${this.opName(op)}\` #${op.id} can run on no host${among}: ${op.refusals!.join("; ")}${rest}`,
      "run it with a host that can hold the value (64-bit, with more free memory), or make the value smaller",
    );
  }

  private *hostsNotAside(): IterableIterator<HostState> {
    for (const host of this.hosts.values()) if (host.status !== "aside") yield host;
  }

  /** Some host (not set aside, unless `anyStatus`) has all of `tags`. */
  private someHostHas(set: TagSet, anyStatus: boolean): boolean {
    let known = this.hostsWithTags.get(set);
    if (!known) {
      // Once per tag set and change of hosts, not per op: a scan over every host per op would grow with the cluster.
      known = { any: false, notAside: false };
      for (const host of this.hosts.values()) {
        if (!hostHasTags(host, set)) continue;
        known.any = true;
        if (host.status !== "aside") known.notAside = true;
      }
      this.hostsWithTags.set(set, known);
    }
    return anyStatus ? known.any : known.notAside;
  }
}

/**
 * A number for a catch-up slave: past the host's slots, and no other slave's (`[host:slot]` and
 * op.slave.slot name one slave at a time; a free slot's own restart keeps its number).
 */
function extraSlot(host: HostState): number {
  const used = new Set<number>();
  for (const slave of host.slaves) used.add(slave.slot);
  let slot = host.slots;
  while (used.has(slot)) slot++;
  return slot;
}

/** The host's slaves that hold one of its slots (not those started only to catch up). */
function ownSlaves(host: HostState): number {
  let n = 0;
  for (const slave of host.slaves) if (!slave.surplus) n++;
  return n;
}
