// The master runtime: agents and their slaves, the op queue and dispatcher, the context log and
// shared data, and recovery when slaves or agents are lost. It reports through typed events and
// never prints.
import { decode, encode, errorFromWire, type WireError } from "../protocol/codec.ts";
import type { AgentConnection } from "../connections/connection.ts";
import { FrameChannel, type IncomingFrame } from "../protocol/channel.ts";
import { FLAG_ERROR, FLAG_STDERR, FrameError, FrameType } from "../protocol/frame.ts";
import type { Hello, SlaveExit, SlaveReady, Spawn } from "../protocol/messages.ts";
import { AbortError, MntError, TimeoutError } from "../errors.ts";
import type { OpOptions, RunStats } from "../program/index.ts";
import { AgentLink } from "./agent-link.ts";
import { contextPayload, opFrame, opPayload, opPayloadSize, type ContextOp, type QueueEntry, type WorkerOp } from "./ops.ts";
import { PoisonOpError, backoffMs, describeSlaveExit, summarizeInput } from "./recovery.ts";
import { SharedStore, type FreedVersions } from "./shared-store.ts";

export type RuntimeEvent =
  | { kind: "log"; host: string; slot: number | null; stream: "stdout" | "stderr"; line: string }
  | { kind: "agent.up"; host: string; hello: Hello; slots: number }
  /** `wasUp`: false when the connection failed before the agent said hello (a host not reached). */
  | { kind: "agent.lost"; host: string; reason: string; wasUp: boolean }
  | { kind: "agent.retry"; host: string; attempt: number; delayMs: number }
  | { kind: "host.aside"; host: string; reason: string }
  /** `catchUp`: an extra slave started to re-run ops at an older context version; it stops afterwards. */
  | { kind: "slave.up"; host: string; slot: number; slave: number; pid: number; catchUp: boolean }
  | { kind: "slave.lost"; host: string; slot: number; slave: number; reason: string; requeued: number }
  | { kind: "op.poisoned"; error: PoisonOpError }
  | { kind: "fatal"; error: MntError };

export interface AgentSpec {
  host: string;
  /** Starts an agent and connects to it; called again to reconnect after the agent was lost. */
  connect: () => Promise<AgentConnection>;
  /** Slaves to run there; "auto" = the host's core count. */
  slots: number | "auto";
  /** Path of the program bundle on that host. */
  programPath: string;
}

export interface RuntimeOptions {
  workerNames: string[];
  contextNames: string[];
  expectedBuild: string | null;
  /** Master and agents send heartbeats this often. */
  heartbeatMs?: number;
  /** An agent silent for this long is lost. */
  heartbeatTimeoutMs?: number;
  /** An agent that hears nothing from the master for this long exits (with its slaves). */
  masterTimeoutMs?: number;
  /** Slaves' lifeline threads beat this often... */
  slaveHeartbeatMs?: number;
  /** ...and a slave silent this long (stopped, frozen) is killed by its agent and replaced. */
  slaveTimeoutMs?: number;
  /** Default timeout of every worker op (ms); an op's own `timeout` wins. None by default. */
  opTimeoutMs?: number;
  /** After an op timed out or was cancelled, its slave has this long to give up before it is killed. */
  hangGraceMs?: number;
  /** An op whose runs killed this many slaves fails with a PoisonOpError. */
  poisonKills?: number;
  /** Slave losses in a row on one host, with no op finished in between, before the host is set aside. */
  maxSlaveFailures?: number;
  /** Slaves in a row dying before they were ready, before the host is set aside. */
  maxStartFailures?: number;
  /** Failed connections to one agent in a row, with no op finished in between, before the host is set aside. */
  maxAgentFailures?: number;
  /** With no agent up, how long to wait for one to come back before the run fails. */
  waitForHostsMs?: number;
  /** Most ops queued at one slave (the pipeline hides the round trip for short ops). */
  maxDepth?: number;
  /** A slave's pipeline holds about this much work (µs): long ops get depth 2, tiny ops up to maxDepth. */
  pipelineBudgetUs?: number;
  env?: Record<string, string>;
}

type ResolvedOptions = Required<Omit<RuntimeOptions, "env" | "opTimeoutMs">> & Pick<RuntimeOptions, "env" | "opTimeoutMs">;

type SlaveStatus = "starting" | "ready" | "dead";

interface SlaveState {
  id: number;
  slot: number;
  agent: AgentState;
  status: SlaveStatus;
  pid: number;
  /** Ops sent to it and not answered, in the order it runs them (the first one is running). */
  inflight: Map<number, WorkerOp>;
  /** Context ops sent to this slave (its context version once it has run them). */
  ctxSent: number;
  /** Catching up: replaying the log to serve ops re-run at an older context version. */
  catchingUp: boolean;
  /** Extra slave (started for a catch-up): stops once it has caught up and drained. */
  surplus: boolean;
  /** Why the master had it killed (a hung op, a retired surplus slave): its end is not its op's fault. */
  killedBecause: string | null;
  /** A suspect op (one that was running when a slave died) runs here alone: no other op is sent meanwhile. */
  isolating: number | null;
  /** A cancelled op it is still running: it takes no new work until that op ends (or it is killed). */
  givingUp: number | null;
  depth: number;
  serviceUs: number;
}

/**
 * One host's agent across reconnections. "up": connected, slaves running; "connecting": an attempt
 * is under way or scheduled; "aside": it failed too often and is out of this run.
 */
type AgentStatus = "connecting" | "up" | "aside";

interface AgentState {
  host: string;
  spec: AgentSpec;
  status: AgentStatus;
  link: AgentLink | null;
  connection: AgentConnection | null;
  slots: number;
  slaves: Set<SlaveState>;
  /** Failed connections in a row with no op finished since. */
  agentFailures: number;
  /** Slave losses in a row with no op finished since (restart backoff and setting aside). */
  slaveFailures: number;
  /** Slaves in a row that died before they were ready. */
  startFailures: number;
  /** Why it was set aside, or why its last connection ended. */
  lastFailure: string | null;
  lastError: Error | null;
  /** Set while a clean stop waits for the agent's Stopped frame. */
  stopped?: () => void;
}

export class Runtime {
  readonly shared = new SharedStore();
  private readonly options: ResolvedOptions;
  private readonly listeners: Array<(event: RuntimeEvent) => void> = [];
  private readonly agents: AgentState[] = [];
  private readonly slaves = new Map<number, SlaveState>();
  /** Slaves that take new ops: ready, at the broadcast context version. */
  private pool: SlaveState[] = [];
  private rotate = 0;
  private nextSlaveId = 1;
  private nextOpId = 1;
  private queue: QueueEntry[] = [];
  private head = 0;
  /** Ops to re-run at a context version older than the broadcast one (after a slave loss or retry). */
  private stale: WorkerOp[] = [];
  private readonly contextLog: ContextOp[] = [];
  private issuedContext = 0;
  private broadcastContext = 0;
  private pumpScheduled = false;
  private closing = false;
  fatalError: MntError | null = null;
  /** Running while no agent is up and some are reconnecting: the run fails when it fires. */
  private noHostsTimer: NodeJS.Timeout | null = null;
  /** Reconnections, restarts and the no-hosts limit: cleared when the run stops. */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Slaves that loaded the program (restarts included). */
  private slavesStarted = 0;
  private readonly counters = { workerDone: 0, workerFailed: 0, workerRetried: 0, sharedBytesSent: 0, slavesLost: 0, workerRerun: 0, workerPoisoned: 0 };
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: RuntimeOptions) {
    this.options = {
      heartbeatMs: 1000,
      heartbeatTimeoutMs: 10_000,
      masterTimeoutMs: 60_000,
      slaveHeartbeatMs: 500,
      slaveTimeoutMs: 5000,
      hangGraceMs: 2000,
      poisonKills: 3,
      maxSlaveFailures: 10,
      maxStartFailures: 3,
      maxAgentFailures: 5,
      waitForHostsMs: 30_000,
      maxDepth: 256,
      pipelineBudgetUs: 1000,
      ...options,
    };
  }

  onEvent(listener: (event: RuntimeEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  // ---------------------------------------------------------------- agents

  /**
   * Adds a host. Resolves with the first agent's hello, rejects when that first connection fails
   * (the runtime keeps trying in the background unless the failure cannot heal, e.g. a wrong build).
   */
  addAgent(spec: AgentSpec): Promise<Hello> {
    const agent: AgentState = {
      host: spec.host,
      spec,
      status: "connecting",
      link: null,
      connection: null,
      slots: 0,
      slaves: new Set(),
      agentFailures: 0,
      slaveFailures: 0,
      startFailures: 0,
      lastFailure: null,
      lastError: null,
    };
    this.agents.push(agent);
    const first = this.connect(agent);
    first.catch(() => {});
    return first;
  }

  private async connect(agent: AgentState): Promise<Hello> {
    const { spec } = agent;
    agent.status = "connecting";
    let connection: AgentConnection;
    try {
      connection = await spec.connect();
    } catch (error) {
      const mnt = error instanceof MntError ? error : new MntError("infrastructure", `${spec.host}: cannot start the agent: ${(error as Error).message}`);
      this.agentFailed(agent, mnt);
      throw mnt;
    }
    if (this.closing || agent.status !== "connecting") {
      void connection.close();
      throw new AbortError(`${spec.host}: the run is stopping`);
    }
    const link = new AgentLink(new FrameChannel(connection.transport, { peer: `agent on ${spec.host}` }), {
      host: spec.host,
      expectedBuild: this.options.expectedBuild,
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      helloTimeoutMs: 30_000,
      config: {
        program: spec.programPath,
        heartbeatMs: this.options.heartbeatMs,
        masterTimeoutMs: this.options.masterTimeoutMs,
        slaveHeartbeatMs: this.options.slaveHeartbeatMs,
        slaveTimeoutMs: this.options.slaveTimeoutMs,
        env: this.options.env,
      },
    });
    agent.link = link;
    agent.connection = connection;
    // Frames and losses of an earlier connection to this host must not touch the current one.
    link.onFrame((frame) => agent.link === link && this.onFrame(agent, frame));
    link.onLost((error) => agent.link === link && this.agentFailed(agent, error));
    const hello = await link.ready;
    if (agent.link !== link || link.isLost) throw agent.lastError ?? new MntError("infrastructure", `${spec.host}: the agent was lost right after its hello`);
    agent.status = "up";
    agent.slots = spec.slots === "auto" ? hello.cores : spec.slots;
    this.clearNoHostsTimer();
    this.emit({ kind: "agent.up", host: spec.host, hello, slots: agent.slots });
    for (let slot = 0; slot < agent.slots; slot++) this.spawnSlave(agent, slot, false);
    return hello;
  }

  /** The agent's connection failed or ended: its slaves are lost; reconnect, or set the host aside. */
  private agentFailed(agent: AgentState, error: Error): void {
    if (agent.status === "aside") return;
    const link = agent.link;
    const wasUp = link?.hello != null;
    agent.link = null;
    agent.lastFailure = error.message;
    agent.lastError = error;
    link?.fail(error);
    void agent.connection?.close();
    agent.connection = null;
    agent.status = "connecting";
    if (!this.closing) this.emit({ kind: "agent.lost", host: agent.host, reason: error.message, wasUp });
    for (const slave of [...agent.slaves]) this.slaveLost(slave, `agent lost: ${error.message}`, { blame: false });
    if (this.closing) return;
    agent.agentFailures++;
    // A peer speaking the wrong protocol or build will not heal by reconnecting.
    // Nor will a refused host key or login.
    const hopeless = (error instanceof MntError && (error.code === "protocol" || error.code === "auth")) || (error instanceof FrameError && error.corrupt);
    if (hopeless || agent.agentFailures >= this.options.maxAgentFailures) {
      const times = agent.agentFailures === 1 ? "once" : `${agent.agentFailures} times in a row`;
      return this.setAside(agent, hopeless ? error.message : `its agent failed ${times} (last: ${error.message})`);
    }
    const delayMs = backoffMs(agent.agentFailures, 500, 8000);
    this.emit({ kind: "agent.retry", host: agent.host, attempt: agent.agentFailures + 1, delayMs });
    this.later(delayMs, () => {
      if (agent.status === "connecting" && agent.link === null) this.connect(agent).catch(() => {});
    });
    this.checkHostsLeft();
  }

  /** Takes a host out of the run; the others go on. */
  private setAside(agent: AgentState, reason: string): void {
    if (agent.status === "aside") return;
    agent.status = "aside";
    agent.lastFailure = reason;
    const link = agent.link;
    agent.link = null;
    for (const slave of [...agent.slaves]) this.slaveLost(slave, `host set aside: ${reason}`, { blame: false });
    link?.close();
    void agent.connection?.close();
    agent.connection = null;
    if (this.closing) return;
    this.emit({ kind: "host.aside", host: agent.host, reason });
    this.checkHostsLeft();
  }

  /** With no agent up the run waits (bounded) for one that is reconnecting, and fails when none is left. */
  private checkHostsLeft(): void {
    if (this.closing || this.fatalError || this.agents.some((a) => a.status === "up")) return this.clearNoHostsTimer();
    const state = () => this.agents.map((a) => `${a.host}: ${a.status === "aside" ? "set aside" : "reconnecting"} (${a.lastFailure ?? "no reason"})`).join("; ");
    if (this.agents.every((a) => a.status === "aside")) {
      return this.fatal(new MntError("infrastructure", `no host is left to run on: ${state()}`, "fix the hosts, then run again"));
    }
    if (this.noHostsTimer) return;
    this.noHostsTimer = this.later(this.options.waitForHostsMs, () => {
      this.noHostsTimer = null;
      if (this.agents.some((a) => a.status === "up")) return;
      this.fatal(new MntError("infrastructure", `no host came back within ${this.options.waitForHostsMs} ms: ${state()}`, "fix the hosts, then run again"));
    });
  }

  /**
   * Runs `action` after `ms` unless the run is stopping. These timers keep the master alive: while
   * every host is down, a pending reconnection may be the only thing left to wait for.
   */
  private later(ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closing) action();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clearNoHostsTimer(): void {
    if (this.noHostsTimer) {
      clearTimeout(this.noHostsTimer);
      this.timers.delete(this.noHostsTimer);
    }
    this.noHostsTimer = null;
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.noHostsTimer = null;
  }

  // ---------------------------------------------------------------- slaves

  private spawnSlave(agent: AgentState, slot: number, surplus: boolean): SlaveState {
    const slave: SlaveState = {
      id: this.nextSlaveId++,
      slot,
      agent,
      status: "starting",
      pid: 0,
      inflight: new Map(),
      ctxSent: 0,
      catchingUp: false,
      surplus,
      killedBecause: null,
      isolating: null,
      givingUp: null,
      depth: 2,
      serviceUs: 0,
    };
    this.slaves.set(slave.id, slave);
    agent.slaves.add(slave);
    const spawn: Spawn = { slot };
    agent.link!.channel.send(FrameType.Spawn, 0, slave.id, encode(spawn));
    return slave;
  }

  private onFrame(agent: AgentState, frame: IncomingFrame): void {
    switch (frame.type) {
      case FrameType.Result:
        return this.onResult(frame);
      case FrameType.ContextAck:
        return this.onContextAck(frame);
      case FrameType.Log:
        return this.onLog(agent, frame);
      case FrameType.Heartbeat:
        return;
      case FrameType.SlaveReady:
        return this.onSlaveReady(frame);
      case FrameType.SlaveExit:
        return this.onSlaveExit(frame);
      case FrameType.SharedFetch:
        return this.onSharedFetch(agent, frame);
      case FrameType.Stopped:
        agent.stopped?.();
        return;
      case FrameType.Fatal:
        return agent.link?.fail(new MntError("infrastructure", `${agent.host}: ${String(decode(frame.payload))}`));
      default:
        return agent.link?.fail(new MntError("protocol", `${agent.host}: unexpected frame type ${frame.type} from the agent`));
    }
  }

  private onSlaveReady(frame: IncomingFrame): void {
    const slave = this.slaves.get(frame.slave);
    if (!slave || slave.status !== "starting") return;
    if (frame.flags & FLAG_ERROR) {
      const error = errorFromWire(decode(frame.payload) as WireError);
      // A program that cannot load will not load on a retry either: stop the run, say why.
      return this.fatal(new MntError("program", `the program failed to load on ${slave.agent.host}:${slave.slot}: ${error.stack ?? error.message}`));
    }
    const ready = decode(frame.payload) as SlaveReady;
    if (ready.worker.join() !== this.options.workerNames.join() || ready.context.join() !== this.options.contextNames.join()) {
      return this.fatal(new MntError("protocol", `${slave.agent.host}:${slave.slot} runs a different program build (ops ${ready.worker.join(", ")})`, "rebuild and redeploy"));
    }
    slave.status = "ready";
    slave.pid = ready.pid;
    slave.agent.startFailures = 0;
    this.slavesStarted++;
    const channel = slave.agent.link!.channel;
    for (const version of this.shared.liveVersions()) channel.send(FrameType.SharedVersion, slave.id, 0, encode(version));
    this.emit({ kind: "slave.up", host: slave.agent.host, slot: slave.slot, slave: slave.id, pid: ready.pid, catchUp: slave.surplus });
    this.advance(slave);
    this.pumpSoon();
  }

  /**
   * Brings a ready slave forward: first it serves ops waiting to re-run at older context versions
   * (replaying the log up to exactly each one), then it replays to the broadcast version and joins
   * the pool.
   */
  private advance(slave: SlaveState): void {
    for (;;) {
      const target = this.oldestStaleVersion(slave.ctxSent);
      if (target === null) break;
      slave.catchingUp = true;
      this.replay(slave, target);
      const ready = this.stale.filter((op) => op.ctxVersion === target);
      this.stale = this.stale.filter((op) => op.ctxVersion !== target);
      for (const op of ready) this.sendOp(op, slave);
    }
    this.replay(slave, this.broadcastContext);
    slave.catchingUp = false;
    if (slave.surplus && slave.agent.slaves.size > slave.agent.slots) {
      // It was started only to catch up; the host already has its slots.
      if (slave.inflight.size === 0) this.retire(slave);
      return;
    }
    this.pool.push(slave);
  }

  private oldestStaleVersion(atLeast: number): number | null {
    let oldest: number | null = null;
    for (const op of this.stale) if (op.ctxVersion >= atLeast && (oldest === null || op.ctxVersion < oldest)) oldest = op.ctxVersion;
    return oldest;
  }

  private replay(slave: SlaveState, upTo: number): void {
    const channel = slave.agent.link!.channel;
    while (slave.ctxSent < upTo) {
      const entry = this.contextLog[slave.ctxSent]!;
      channel.send(FrameType.Context, slave.id, entry.seq, contextPayload(entry));
      slave.ctxSent++;
      if (!entry.settled) entry.pending.add(slave.id);
    }
  }

  private retire(slave: SlaveState): void {
    slave.surplus = true;
    this.removeFromPool(slave);
    this.killSlave(slave, "retired after catching up");
  }

  /** Has the agent kill a slave; its end is then not blamed on the op it was running. */
  private killSlave(slave: SlaveState, because: string): void {
    if (slave.status === "dead" || slave.killedBecause) return;
    slave.killedBecause = because;
    slave.agent.link?.channel.send(FrameType.Kill, 0, slave.id);
  }

  private onSlaveExit(frame: IncomingFrame): void {
    const slave = this.slaves.get(frame.slave);
    if (!slave) return;
    const exit = decode(frame.payload) as SlaveExit;
    const described = describeSlaveExit(exit);
    if (slave.killedBecause) return this.slaveLost(slave, `killed by the master: ${slave.killedBecause}`, { blame: false });
    // SIGKILL, SIGTERM… with no reason from the agent came from outside (an operator, a scheduler,
    // the kernel's OOM killer): the op that happened to be running is not charged with them.
    const fromOutside = exit.reason === null && exit.signal !== null && SIGNALS_FROM_OUTSIDE.has(exit.signal);
    this.slaveLost(slave, described, { blame: !fromOutside });
  }

  /**
   * A slave is gone. Its in-flight ops go back to the front of the queue (the one it was running
   * takes the blame when `blame`, and fails once it has killed `poisonKills` slaves); its host
   * starts a replacement after a backoff, or is set aside when its slaves keep dying.
   */
  private slaveLost(slave: SlaveState, reason: string, { blame }: { blame: boolean }): void {
    if (slave.status === "dead") return;
    const wasStarting = slave.status === "starting";
    const expected = slave.killedBecause !== null;
    slave.status = "dead";
    this.slaves.delete(slave.id);
    slave.agent.slaves.delete(slave);
    this.removeFromPool(slave);
    const requeued = this.requeue(slave, blame ? reason : null);
    for (const entry of this.contextLog) if (!entry.settled && entry.pending.delete(slave.id)) this.maybeSettleContext(entry);
    const agent = slave.agent;
    if (this.closing) return this.pumpSoon();
    if (!(slave.surplus && expected)) {
      this.counters.slavesLost++;
      this.emit({ kind: "slave.lost", host: agent.host, slot: slave.slot, slave: slave.id, reason, requeued });
    }
    if (agent.status !== "up" || slave.surplus) {
      this.ensureCatchUpSlave();
      return this.pumpSoon();
    }
    if (!expected) {
      agent.slaveFailures++;
      if (wasStarting) agent.startFailures++;
      if (agent.startFailures >= this.options.maxStartFailures) return this.setAside(agent, `its slaves die while starting (last: ${reason})`);
      if (agent.slaveFailures >= this.options.maxSlaveFailures) return this.setAside(agent, `${agent.slaveFailures} slaves in a row died with no op finished in between (last: ${reason})`);
    }
    const delay = expected ? 0 : backoffMs(agent.slaveFailures, 100, 5000);
    this.later(delay, () => {
      if (agent.status === "up" && agent.link) this.spawnSlave(agent, slave.slot, false);
    });
    this.pumpSoon();
  }

  /**
   * In-flight ops of a lost slave go back to the front of the queue, in issue order. With `blame`
   * (the slave died on its own, or hung), the op it was running is charged with the death.
   */
  private requeue(slave: SlaveState, blame: string | null): number {
    const inOrder = [...slave.inflight.values()];
    slave.inflight.clear();
    const running = inOrder[0];
    const ops = inOrder.filter((op) => !op.settled);
    ops.forEach(unassign);
    let rerun = ops;
    if (blame !== null && running && !running.settled) {
      running.deaths.push({ where: `${slave.agent.host}:${slave.slot}`, how: blame });
      if (running.deaths.length >= this.options.poisonKills) {
        rerun = ops.filter((op) => op !== running);
        const error = new PoisonOpError(running.name, running.id, summarizeInput(running.payload), running.deaths);
        this.counters.workerPoisoned++;
        this.emit({ kind: "op.poisoned", error });
        this.settleError(running, error);
      }
    }
    rerun.sort((a, b) => a.id - b.id);
    for (const op of rerun) op.attempt++;
    this.counters.workerRerun += rerun.length;
    this.requeueOps(rerun);
    return rerun.length;
  }

  private requeueOps(ops: WorkerOp[]): void {
    const current = ops.filter((op) => op.ctxVersion === this.broadcastContext);
    const older = ops.filter((op) => op.ctxVersion !== this.broadcastContext);
    for (let i = current.length - 1; i >= 0; i--) {
      if (this.head > 0) this.queue[--this.head] = current[i]!;
      else this.queue.unshift(current[i]!);
    }
    if (older.length > 0) {
      this.stale.push(...older);
      this.ensureCatchUpSlave();
    }
  }

  /** Re-runs at an old context version need a slave that replays the log to exactly that version. */
  private ensureCatchUpSlave(): void {
    const target = this.oldestStaleVersion(0);
    if (target === null) return;
    for (const slave of this.slaves.values()) if (slave.status === "starting" || (slave.catchingUp && slave.ctxSent <= target)) return;
    const agent = this.agents.filter((a) => a.status === "up" && a.link).sort((a, b) => a.slaves.size - b.slaves.size)[0];
    if (agent) this.spawnSlave(agent, agent.slaves.size, true);
  }

  private removeFromPool(slave: SlaveState): void {
    const at = this.pool.indexOf(slave);
    if (at >= 0) this.pool.splice(at, 1);
  }

  // ---------------------------------------------------------------- issuing ops

  issueWorker(nameIndex: number, name: string, input: unknown, options: OpOptions | undefined): Promise<unknown> {
    if (this.fatalError) return Promise.reject(this.fatalError);
    let payload: Buffer;
    try {
      payload = input === undefined ? EMPTY : encode(input, `input of ${name}`);
    } catch (error) {
      return Promise.reject(new MntError("encode", (error as Error).message));
    }
    let issued: WorkerOp | undefined;
    const promise = new Promise((resolve, reject) => {
      const op: WorkerOp = (issued = {
        kind: "worker",
        id: this.nextOpId++,
        name,
        nameIndex,
        payload,
        epoch: this.shared.retain(),
        ctxVersion: this.issuedContext,
        attempt: 0,
        retriesLeft: options?.retries ?? 0,
        deaths: [],
        options,
        resolve,
        reject,
        settled: false,
        slave: null,
        timer: null,
        timedOut: false,
        sentAt: 0,
        promise: null,
      });
      const signal = options?.signal;
      if (signal) {
        if (signal.aborted) return this.settleError(op, new AbortError(`${name} was cancelled before it started`, signal.reason));
        signal.addEventListener("abort", () => this.cancel(op, new AbortError(`${name} was cancelled`, signal.reason)), { once: true });
      }
      this.queue.push(op);
      this.pumpSoon();
    });
    issued!.promise = promise;
    return promise;
  }

  issueContext(nameIndex: number, name: string, input: unknown): Promise<void> {
    if (this.fatalError) return Promise.reject(this.fatalError);
    let payload: Buffer;
    try {
      payload = input === undefined ? EMPTY : encode(input, `input of context op ${name}`);
    } catch (error) {
      return Promise.reject(new MntError("encode", (error as Error).message));
    }
    let issued: ContextOp | undefined;
    const promise = new Promise<void>((resolve, reject) => {
      const entry: ContextOp = (issued = {
        kind: "context",
        seq: ++this.issuedContext,
        name,
        nameIndex,
        payload,
        pending: new Set(),
        applied: false,
        error: null,
        settled: false,
        resolve,
        reject,
        promise: null,
      });
      this.contextLog.push(entry);
      this.queue.push(entry);
      this.pumpSoon();
    });
    issued!.promise = promise;
    return promise;
  }

  setShared(key: string, value: unknown): void {
    if (this.fatalError) throw this.fatalError;
    const version = this.shared.set(key, value);
    const payload = encode(version);
    for (const slave of this.slaves.values()) if (slave.status === "ready") slave.agent.link!.channel.send(FrameType.SharedVersion, slave.id, 0, payload);
    this.broadcastFree(this.shared.collect());
  }

  // ---------------------------------------------------------------- dispatch

  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(this.pump);
  }

  private readonly pump = (): void => {
    this.pumpScheduled = false;
    const queue = this.queue;
    while (this.head < queue.length) {
      const entry = queue[this.head]!;
      if (entry.kind === "context") {
        this.broadcast(entry);
        this.head++;
        continue;
      }
      if (entry.settled) {
        this.head++;
        continue;
      }
      // An op suspected of killing a slave runs alone, so that a second death is surely its own.
      const slave = entry.deaths.length > 0 ? this.pickIdleSlave() : this.pickSlave();
      if (!slave) break;
      this.head++;
      this.sendOp(entry, slave);
    }
    if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    this.checkIdle();
  };

  private pickSlave(): SlaveState | null {
    const pool = this.pool;
    const n = pool.length;
    for (let i = 0; i < n; i++) {
      const slave = pool[(this.rotate + i) % n]!;
      if (slave.inflight.size < slave.depth && slave.isolating === null) {
        this.rotate = (this.rotate + i + 1) % n;
        return slave;
      }
    }
    return null;
  }

  private pickIdleSlave(): SlaveState | null {
    for (const slave of this.pool) if (slave.inflight.size === 0 && slave.isolating === null) return slave;
    return null;
  }

  private sendOp(op: WorkerOp, slave: SlaveState): void {
    op.slave = slave.id;
    if (op.deaths.length > 0) slave.isolating = op.id;
    op.sentAt = performance.now();
    slave.inflight.set(op.id, op);
    const channel = slave.agent.link!.channel;
    if (opPayloadSize(op) <= channel.maxPayload) channel.sendRaw(opFrame(op, slave.id));
    else channel.send(FrameType.Op, slave.id, op.id, opPayload(op));
    const timeout = op.options?.timeout ?? this.options.opTimeoutMs;
    if (timeout !== undefined && !op.timer) {
      op.timer = setTimeout(() => {
        op.timedOut = true;
        this.cancel(op, new TimeoutError(`${op.name} (op ${op.id}) got no result within ${timeout} ms`));
      }, timeout);
      op.timer.unref();
    }
  }

  private broadcast(entry: ContextOp): void {
    this.broadcastContext = entry.seq;
    const payload = contextPayload(entry);
    for (const slave of this.pool) {
      slave.agent.link!.channel.send(FrameType.Context, slave.id, entry.seq, payload);
      slave.ctxSent = entry.seq;
      entry.pending.add(slave.id);
    }
  }

  /** Cancels an op: a queued one never runs; a running one's slave sees op.signal abort. */
  private cancel(op: WorkerOp, error: Error): void {
    if (op.settled) return;
    if (op.slave !== null) {
      const slave = this.slaves.get(op.slave);
      if (slave) {
        slave.agent.link?.channel.send(FrameType.Cancel, slave.id, op.id);
        // It stays in the slave's in-flight set until the slave answers, so the pipeline count stays true.
        this.watchForHang(slave, op);
      }
    }
    const stale = this.stale.indexOf(op);
    if (stale >= 0) this.stale.splice(stale, 1);
    this.settleError(op, error);
  }

  /**
   * A cancelled or timed-out op that its slave is running must end soon; a slave still in it after
   * the grace period is stuck (a synchronous loop cannot see op.signal) and is replaced. An op only
   * waiting in the slave's pipeline is skipped by the slave when its turn comes.
   */
  private watchForHang(slave: SlaveState, op: WorkerOp): void {
    if (slave.inflight.keys().next().value !== op.id || slave.status !== "ready") return;
    // Until it gives up that op, the slave takes no new work, and the ops queued behind it run elsewhere
    // (should it come back after all, it skips them: they are cancelled there).
    this.removeFromPool(slave);
    slave.givingUp = op.id;
    const behind = [...slave.inflight.values()].filter((other) => other !== op && !other.settled);
    for (const other of behind) {
      slave.inflight.delete(other.id);
      slave.agent.link?.channel.send(FrameType.Cancel, slave.id, other.id);
      unassign(other);
    }
    this.requeueOps(behind);
    this.pumpSoon();
    const grace = this.options.hangGraceMs;
    const timer = setTimeout(() => {
      if (slave.status !== "dead" && slave.inflight.has(op.id)) {
        this.killSlave(slave, `${op.name} (op ${op.id}) was still running ${grace} ms after it was ${op.timedOut ? "timed out" : "cancelled"}`);
      }
    }, grace);
    timer.unref();
  }

  // ---------------------------------------------------------------- results

  private onResult(frame: IncomingFrame): void {
    const slave = this.slaves.get(frame.slave);
    if (!slave) return; // from a slave already declared lost: its ops were re-queued
    const op = slave.inflight.get(frame.id);
    if (!op) return;
    slave.inflight.delete(frame.id);
    if (slave.isolating === frame.id) slave.isolating = null;
    if (slave.givingUp === frame.id) {
      // It gave up the cancelled op in time: back to work, at the current context version.
      slave.givingUp = null;
      if (slave.status === "ready" && !slave.killedBecause) this.advance(slave);
    }
    const serviceUs = frame.payload.readUInt32LE(0);
    slave.serviceUs = slave.serviceUs === 0 ? serviceUs : slave.serviceUs * 0.8 + serviceUs * 0.2;
    slave.depth = Math.max(2, Math.min(this.options.maxDepth, 1 + Math.ceil(this.options.pipelineBudgetUs / Math.max(1, slave.serviceUs))));
    if (slave.surplus && !slave.catchingUp && slave.inflight.size === 0 && !this.pool.includes(slave)) this.retire(slave);
    // The host makes progress: earlier failures there no longer count against it.
    slave.agent.slaveFailures = 0;
    slave.agent.agentFailures = 0;
    unassign(op);
    if (op.settled) {
      this.pumpSoon();
      return;
    }
    const body = frame.payload.subarray(4);
    if (frame.flags & FLAG_ERROR) {
      const error = errorFromWire(decode(body) as WireError);
      if (op.retriesLeft > 0) {
        op.retriesLeft--;
        op.attempt++;
        this.counters.workerRetried++;
        this.requeueOps([op]);
      } else {
        this.settleError(op, error);
      }
    } else {
      let value: unknown;
      try {
        value = body.length === 0 ? undefined : decode(body);
      } catch (error) {
        return this.settleError(op, new MntError("protocol", `${slave.agent.host}:${slave.slot}: result of ${op.name} could not be decoded: ${(error as Error).message}`));
      }
      op.settled = true;
      this.counters.workerDone++;
      this.releaseShared(op);
      op.resolve(value);
    }
    this.pumpSoon();
  }

  private settleError(op: WorkerOp, error: Error): void {
    if (op.settled) return;
    op.settled = true;
    if (op.timer) clearTimeout(op.timer);
    op.timer = null;
    this.counters.workerFailed++;
    this.releaseShared(op);
    op.reject(error);
    this.pumpSoon();
  }

  private releaseShared(op: WorkerOp): void {
    this.broadcastFree(this.shared.release(op.epoch));
  }

  private broadcastFree(freed: FreedVersions | null): void {
    if (!freed) return;
    const forSlaves = encode(freed);
    for (const slave of this.slaves.values()) if (slave.status === "ready") slave.agent.link!.channel.send(FrameType.SharedFree, slave.id, 0, forSlaves);
    if (freed.hashes.length === 0) return;
    const forAgents = encode(freed.hashes);
    for (const agent of this.agents) if (agent.status === "up") agent.link?.channel.send(FrameType.SharedFree, 0, 0, forAgents);
  }

  private onContextAck(frame: IncomingFrame): void {
    const entry = this.contextLog[frame.id - 1];
    if (!entry || entry.settled) return;
    entry.pending.delete(frame.slave);
    entry.applied = true;
    if (frame.flags & FLAG_ERROR && !entry.error) entry.error = errorFromWire(decode(frame.payload) as WireError);
    this.maybeSettleContext(entry);
  }

  private maybeSettleContext(entry: ContextOp): void {
    if (entry.settled || !entry.applied || entry.pending.size > 0) return;
    entry.settled = true;
    if (entry.error) entry.reject(entry.error);
    else entry.resolve();
    this.checkIdle();
  }

  private onSharedFetch(agent: AgentState, frame: IncomingFrame): void {
    const hash = frame.payload.toString("utf8");
    const bytes = this.shared.blob(hash);
    const channel = agent.link?.channel;
    if (!channel) return;
    if (!bytes) {
      channel.send(FrameType.SharedData, 0, frame.id, encode(new Error(`shared data ${hash.slice(0, 12)} was freed`)), FLAG_ERROR);
      return;
    }
    this.counters.sharedBytesSent += bytes.length;
    channel.sendStreaming(FrameType.SharedData, 0, frame.id, bytes, 0, SHARED_CHUNK_BYTES).catch(() => {});
  }

  private onLog(agent: AgentState, frame: IncomingFrame): void {
    const stream = frame.flags & FLAG_STDERR ? "stderr" : "stdout";
    for (const line of frame.payload.toString("utf8").split("\n")) {
      this.emit({ kind: "log", host: agent.host, slot: frame.id, stream, line });
    }
  }

  // ---------------------------------------------------------------- run control

  /** Stops the run: every op not finished is rejected with `error`. */
  fatal(error: MntError): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.emit({ kind: "fatal", error });
    this.rejectEverything(error);
  }

  /**
   * Rejects every op not finished with the error that ends the run. The program may have left some
   * of them unawaited; their rejection is the run ending, not a fault of the program, so it must not
   * surface as an unhandled rejection (which would crash the master mid-stop).
   */
  private rejectEverything(error: Error): void {
    const quiet = (entry: { promise: Promise<unknown> | null; settled: boolean }) => {
      if (!entry.settled) entry.promise?.catch(() => {});
    };
    for (let i = this.head; i < this.queue.length; i++) quiet(this.queue[i]!);
    for (const op of this.stale) quiet(op);
    for (const slave of this.slaves.values()) for (const op of slave.inflight.values()) quiet(op);
    for (const entry of this.contextLog) quiet(entry);
    for (let i = this.head; i < this.queue.length; i++) {
      const entry = this.queue[i]!;
      if (entry.kind === "worker") this.settleError(entry, error);
    }
    this.queue = [];
    this.head = 0;
    for (const op of this.stale) this.settleError(op, error);
    this.stale = [];
    for (const slave of this.slaves.values()) for (const op of slave.inflight.values()) this.settleError(op, error);
    for (const entry of this.contextLog) {
      if (entry.settled) continue;
      entry.settled = true;
      entry.reject(error);
    }
  }

  /** Resolves when no op is queued or running and every context op has settled. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private isIdle(): boolean {
    if (this.head < this.queue.length || this.stale.length > 0) return false;
    for (const slave of this.slaves.values()) for (const op of slave.inflight.values()) if (!op.settled) return false;
    return this.contextLog.every((entry) => entry.settled);
  }

  /** Closes every agent connection (agents then stop their slaves) and rejects what is left. */
  close(reason = "the run is stopping"): void {
    if (this.closing) return;
    this.closing = true;
    this.rejectEverything(new AbortError(reason));
    this.clearTimers();
    for (const agent of this.agents) agent.link?.close();
  }

  /**
   * Ends the run cleanly: slaves exit on their own and everything they printed reaches the master
   * before the connections close (at most `timeoutMs`, then close regardless).
   */
  async stop(reason = "the run has ended", timeoutMs = 3000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.rejectEverything(new AbortError(reason));
    this.clearTimers();
    const live = this.agents.filter((agent) => agent.status === "up" && agent.link && !agent.link.isLost);
    await Promise.all(
      live.map(
        (agent) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            timer.unref();
            agent.stopped = () => {
              clearTimeout(timer);
              resolve();
            };
            const link = agent.link!;
            link.onLost(() => agent.stopped?.());
            link.channel.send(FrameType.Stop, 0, 0);
            link.channel.flush();
          }),
      ),
    );
    for (const agent of this.agents) agent.link?.close();
  }

  /** Ends every agent connection for good: resolves when their processes are gone (bounded). */
  async disconnect(): Promise<void> {
    this.close();
    await Promise.all(this.agents.map((agent) => agent.connection?.close()));
  }

  stats(): RunStats {
    let running = 0;
    for (const slave of this.slaves.values()) running += slave.inflight.size;
    return {
      slaves: this.pool.length,
      slavesStarted: this.slavesStarted,
      workerDone: this.counters.workerDone,
      workerQueued: this.queue.length - this.head + this.stale.length,
      workerRunning: running,
      workerFailed: this.counters.workerFailed,
      workerRetried: this.counters.workerRetried,
      slavesLost: this.counters.slavesLost,
      workerRerun: this.counters.workerRerun,
      workerPoisoned: this.counters.workerPoisoned,
      contextOps: this.issuedContext,
      sharedVersions: this.shared.versionsCreated,
      sharedBytesSent: this.counters.sharedBytesSent,
    };
  }
}

const EMPTY = Buffer.alloc(0);

/** The op is no longer on a slave: its timeout starts again when it is sent again. */
function unassign(op: WorkerOp): void {
  op.slave = null;
  if (op.timer) clearTimeout(op.timer);
  op.timer = null;
}

/**
 * Shared data travels in frames of this size, not the 1 MiB frame limit: pipes and SSH channels
 * deliver 32–64 KiB reads, and every frame spread over several reads is joined (copied) by each
 * reader on the way. Measured on 256 MiB: 1 MiB frames ~80 MiB/s, 256 KiB ~150–190 MiB/s into one slave.
 */
const SHARED_CHUNK_BYTES = 256 * 1024;

/** Signals a program does not raise by crashing: someone or something else ended the slave. */
const SIGNALS_FROM_OUTSIDE = new Set(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]);
