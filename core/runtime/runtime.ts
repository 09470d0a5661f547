// The master runtime: agents and their slaves, the op queue and dispatcher, the context log and
// shared data. It reports through typed events and never prints.
import { decode, encode, errorFromWire, type WireError } from "../protocol/codec.ts";
import { FrameChannel, type IncomingFrame, type Transport } from "../protocol/channel.ts";
import { FLAG_ERROR, FLAG_STDERR, FrameType } from "../protocol/frame.ts";
import type { Hello, SlaveExit, SlaveReady, Spawn } from "../protocol/messages.ts";
import { AbortError, MntError, TimeoutError } from "../errors.ts";
import type { OpOptions, RunStats } from "../program/index.ts";
import { AgentLink } from "./agent-link.ts";
import { contextPayload, opFrame, opPayload, opPayloadSize, type ContextOp, type QueueEntry, type WorkerOp } from "./ops.ts";
import { SharedStore, type FreedVersions } from "./shared-store.ts";

export type RuntimeEvent =
  | { kind: "log"; host: string; slot: number | null; stream: "stdout" | "stderr"; line: string }
  | { kind: "agent.up"; host: string; hello: Hello; slots: number }
  | { kind: "agent.lost"; host: string; reason: string }
  | { kind: "slave.up"; host: string; slot: number; slave: number; pid: number }
  | { kind: "slave.lost"; host: string; slot: number; slave: number; reason: string; requeued: number }
  | { kind: "fatal"; error: MntError };

export interface AgentSpec {
  host: string;
  transport: Transport;
  /** Slaves to run there; "auto" = the host's core count. */
  slots: number | "auto";
  /** Path of the program bundle on that host. */
  programPath: string;
}

export interface RuntimeOptions {
  workerNames: string[];
  contextNames: string[];
  expectedBuild: string | null;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** Most ops queued at one slave (the pipeline hides the round trip for short ops). */
  maxDepth?: number;
  /** A slave's pipeline holds about this much work (µs): long ops get depth 2, tiny ops up to maxDepth. */
  pipelineBudgetUs?: number;
  /** Restarts of slaves lost on one host before that host is set aside. */
  maxRestartsPerHost?: number;
  env?: Record<string, string>;
}

type SlaveStatus = "starting" | "ready" | "dead";

interface SlaveState {
  id: number;
  slot: number;
  agent: AgentState;
  status: SlaveStatus;
  pid: number;
  inflight: Map<number, WorkerOp>;
  /** Context ops sent to this slave (its context version once it has run them). */
  ctxSent: number;
  /** Catching up: replaying the log to serve ops re-run at an older context version. */
  catchingUp: boolean;
  /** Extra slave (started for a catch-up): stops once it has caught up and drained. */
  surplus: boolean;
  depth: number;
  serviceUs: number;
}

interface AgentState {
  host: string;
  link: AgentLink;
  spec: AgentSpec;
  slots: number;
  slaves: Set<SlaveState>;
  restarts: number;
  lost: boolean;
  lostError?: Error;
  /** Set while a clean stop waits for the agent's Stopped frame. */
  stopped?: () => void;
}

export class Runtime {
  readonly shared = new SharedStore();
  private readonly options: Required<Omit<RuntimeOptions, "env">> & { env?: Record<string, string> };
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
  /** Slaves that loaded the program (restarts included). */
  private slavesStarted = 0;
  private readonly counters = { workerDone: 0, workerFailed: 0, workerRetried: 0, sharedBytesSent: 0 };
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: RuntimeOptions) {
    this.options = {
      heartbeatMs: 1000,
      heartbeatTimeoutMs: 10_000,
      maxDepth: 256,
      pipelineBudgetUs: 1000,
      maxRestartsPerHost: 20,
      ...options,
    };
  }

  onEvent(listener: (event: RuntimeEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  // ---------------------------------------------------------------- agents and slaves

  addAgent(spec: AgentSpec): Promise<Hello> {
    const channel = new FrameChannel(spec.transport, { peer: `agent on ${spec.host}` });
    const link = new AgentLink(channel, {
      host: spec.host,
      expectedBuild: this.options.expectedBuild,
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      helloTimeoutMs: 30_000,
      config: { program: spec.programPath, heartbeatMs: this.options.heartbeatMs, env: this.options.env },
    });
    const agent: AgentState = { host: spec.host, link, spec, slots: 0, slaves: new Set(), restarts: 0, lost: false };
    this.agents.push(agent);
    link.onFrame((frame) => this.onFrame(agent, frame));
    link.onLost((error) => this.onAgentLost(agent, error));
    return link.ready.then((hello) => {
      if (agent.lost) throw agent.lostError ?? new MntError("infrastructure", `${spec.host}: the agent was lost right after its hello`);
      agent.slots = spec.slots === "auto" ? hello.cores : spec.slots;
      this.emit({ kind: "agent.up", host: spec.host, hello, slots: agent.slots });
      for (let slot = 0; slot < agent.slots; slot++) this.spawnSlave(agent, slot, false);
      return hello;
    });
  }

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
      depth: 2,
      serviceUs: 0,
    };
    this.slaves.set(slave.id, slave);
    agent.slaves.add(slave);
    const spawn: Spawn = { slot };
    agent.link.channel.send(FrameType.Spawn, 0, slave.id, encode(spawn));
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
        return agent.link.fail(new MntError("infrastructure", `${agent.host}: ${String(decode(frame.payload))}`));
      default:
        return agent.link.fail(new MntError("protocol", `${agent.host}: unexpected frame type ${frame.type} from the agent`));
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
    this.slavesStarted++;
    const channel = slave.agent.link.channel;
    for (const version of this.shared.liveVersions()) channel.send(FrameType.SharedVersion, slave.id, 0, encode(version));
    this.emit({ kind: "slave.up", host: slave.agent.host, slot: slave.slot, slave: slave.id, pid: ready.pid });
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
    const channel = slave.agent.link.channel;
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
    slave.agent.link.channel.send(FrameType.Kill, 0, slave.id);
  }

  private onSlaveExit(frame: IncomingFrame): void {
    const slave = this.slaves.get(frame.slave);
    if (!slave) return;
    const exit = decode(frame.payload) as SlaveExit;
    const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const tail = exit.stderrTail.length ? `; last stderr: ${exit.stderrTail.slice(-3).join(" | ")}` : "";
    this.slaveLost(slave, `${how}${tail}`);
  }

  private slaveLost(slave: SlaveState, reason: string): void {
    if (slave.status === "dead") return;
    const wasStarting = slave.status === "starting";
    slave.status = "dead";
    this.slaves.delete(slave.id);
    slave.agent.slaves.delete(slave);
    this.removeFromPool(slave);
    const requeued = this.requeue(slave);
    for (const entry of this.contextLog) if (!entry.settled && entry.pending.delete(slave.id)) this.maybeSettleContext(entry);
    if (slave.surplus && !this.closing) return this.pumpSoon();
    if (!this.closing) this.emit({ kind: "slave.lost", host: slave.agent.host, slot: slave.slot, slave: slave.id, reason, requeued });
    if (this.closing || slave.agent.lost) return this.pumpSoon();
    const agent = slave.agent;
    agent.restarts++;
    if (wasStarting && agent.restarts > 3 && agent.slaves.size === 0 && this.pool.length === 0) {
      return this.fatal(new MntError("infrastructure", `slaves on ${agent.host} die while starting: ${reason}`));
    }
    if (agent.restarts > this.options.maxRestartsPerHost) {
      this.emit({ kind: "agent.lost", host: agent.host, reason: `set aside after ${agent.restarts} slave losses (last: ${reason})` });
      agent.link.fail(new MntError("infrastructure", `${agent.host}: set aside after ${agent.restarts} slave losses`));
      return;
    }
    const backoff = Math.min(2000, 50 * 2 ** Math.min(agent.restarts, 6));
    setTimeout(() => {
      if (!this.closing && !agent.lost) this.spawnSlave(agent, slave.slot, false);
    }, backoff).unref();
    this.pumpSoon();
  }

  /** In-flight ops of a lost slave go back to the front of the queue, in issue order. */
  private requeue(slave: SlaveState): number {
    const ops = [...slave.inflight.values()].filter((op) => !op.settled);
    slave.inflight.clear();
    ops.sort((a, b) => a.id - b.id);
    for (const op of ops) {
      op.kills++;
      op.slave = null;
      if (op.timer) clearTimeout(op.timer);
      op.timer = null;
    }
    this.requeueOps(ops);
    return ops.length;
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
    const agent = this.agents.filter((a) => !a.lost && a.link.hello).sort((a, b) => a.slaves.size - b.slaves.size)[0];
    if (agent) this.spawnSlave(agent, agent.slaves.size, true);
  }

  private onAgentLost(agent: AgentState, error: Error): void {
    if (agent.lost) return;
    agent.lost = true;
    agent.lostError = error;
    if (!this.closing) this.emit({ kind: "agent.lost", host: agent.host, reason: error.message });
    for (const slave of [...agent.slaves]) this.slaveLost(slave, `agent lost: ${error.message}`);
    if (!this.closing && this.agents.every((a) => a.lost)) {
      this.fatal(new MntError("infrastructure", `every agent is lost (last: ${error.message})`));
    }
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
    return new Promise((resolve, reject) => {
      const op: WorkerOp = {
        kind: "worker",
        id: this.nextOpId++,
        name,
        nameIndex,
        payload,
        epoch: this.shared.retain(),
        ctxVersion: this.issuedContext,
        attempt: 0,
        retriesLeft: options?.retries ?? 0,
        kills: 0,
        options,
        resolve,
        reject,
        settled: false,
        slave: null,
        timer: null,
        sentAt: 0,
      };
      const signal = options?.signal;
      if (signal) {
        if (signal.aborted) return this.settleError(op, new AbortError(`${name} was cancelled before it started`, signal.reason));
        signal.addEventListener("abort", () => this.cancel(op, new AbortError(`${name} was cancelled`, signal.reason)), { once: true });
      }
      this.queue.push(op);
      this.pumpSoon();
    });
  }

  issueContext(nameIndex: number, name: string, input: unknown): Promise<void> {
    if (this.fatalError) return Promise.reject(this.fatalError);
    let payload: Buffer;
    try {
      payload = input === undefined ? EMPTY : encode(input, `input of context op ${name}`);
    } catch (error) {
      return Promise.reject(new MntError("encode", (error as Error).message));
    }
    return new Promise<void>((resolve, reject) => {
      const entry: ContextOp = {
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
      };
      this.contextLog.push(entry);
      this.queue.push(entry);
      this.pumpSoon();
    });
  }

  setShared(key: string, value: unknown): void {
    if (this.fatalError) throw this.fatalError;
    const version = this.shared.set(key, value);
    const payload = encode(version);
    for (const slave of this.slaves.values()) if (slave.status === "ready") slave.agent.link.channel.send(FrameType.SharedVersion, slave.id, 0, payload);
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
      const slave = this.pickSlave();
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
      if (slave.inflight.size < slave.depth) {
        this.rotate = (this.rotate + i + 1) % n;
        return slave;
      }
    }
    return null;
  }

  private sendOp(op: WorkerOp, slave: SlaveState): void {
    op.slave = slave.id;
    op.sentAt = performance.now();
    slave.inflight.set(op.id, op);
    const channel = slave.agent.link.channel;
    if (opPayloadSize(op) <= channel.maxPayload) channel.sendRaw(opFrame(op, slave.id));
    else channel.send(FrameType.Op, slave.id, op.id, opPayload(op));
    const timeout = op.options?.timeout;
    if (timeout !== undefined && !op.timer) {
      op.timer = setTimeout(() => this.cancel(op, new TimeoutError(`${op.name} (op ${op.id}) got no result within ${timeout} ms`)), timeout);
      op.timer.unref();
    }
  }

  private broadcast(entry: ContextOp): void {
    this.broadcastContext = entry.seq;
    const payload = contextPayload(entry);
    for (const slave of this.pool) {
      slave.agent.link.channel.send(FrameType.Context, slave.id, entry.seq, payload);
      slave.ctxSent = entry.seq;
      entry.pending.add(slave.id);
    }
  }

  /** Cancels an op: a queued one never runs; a running one's slave sees op.signal abort. */
  private cancel(op: WorkerOp, error: Error): void {
    if (op.settled) return;
    if (op.slave !== null) {
      const slave = this.slaves.get(op.slave);
      slave?.agent.link.channel.send(FrameType.Cancel, slave.id, op.id);
      // It stays in the slave's in-flight set until the slave answers, so the pipeline count stays true.
    }
    const stale = this.stale.indexOf(op);
    if (stale >= 0) this.stale.splice(stale, 1);
    this.settleError(op, error);
  }

  // ---------------------------------------------------------------- results

  private onResult(frame: IncomingFrame): void {
    const slave = this.slaves.get(frame.slave);
    if (!slave) return; // from a slave already declared lost: its ops were re-queued
    const op = slave.inflight.get(frame.id);
    if (!op) return;
    slave.inflight.delete(frame.id);
    const serviceUs = frame.payload.readUInt32LE(0);
    slave.serviceUs = slave.serviceUs === 0 ? serviceUs : slave.serviceUs * 0.8 + serviceUs * 0.2;
    slave.depth = Math.max(2, Math.min(this.options.maxDepth, 1 + Math.ceil(this.options.pipelineBudgetUs / Math.max(1, slave.serviceUs))));
    if (slave.surplus && !slave.catchingUp && slave.inflight.size === 0 && !this.pool.includes(slave)) this.retire(slave);
    if (op.timer) clearTimeout(op.timer);
    op.timer = null;
    op.slave = null;
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
    for (const slave of this.slaves.values()) if (slave.status === "ready") slave.agent.link.channel.send(FrameType.SharedFree, slave.id, 0, forSlaves);
    if (freed.hashes.length === 0) return;
    const forAgents = encode(freed.hashes);
    for (const agent of this.agents) if (!agent.lost) agent.link.channel.send(FrameType.SharedFree, 0, 0, forAgents);
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
    const channel = agent.link.channel;
    if (!bytes) {
      channel.send(FrameType.SharedData, 0, frame.id, encode(new Error(`shared data ${hash.slice(0, 12)} was freed`)), FLAG_ERROR);
      return;
    }
    this.counters.sharedBytesSent += bytes.length;
    channel.sendStreaming(FrameType.SharedData, 0, frame.id, bytes).catch(() => {});
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

  private rejectEverything(error: Error): void {
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
    for (const agent of this.agents) agent.link.close();
  }

  /**
   * Ends the run cleanly: slaves exit on their own and everything they printed reaches the master
   * before the connections close (at most `timeoutMs`, then close regardless).
   */
  async stop(reason = "the run has ended", timeoutMs = 3000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.rejectEverything(new AbortError(reason));
    const live = this.agents.filter((agent) => !agent.lost && agent.link.hello);
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
            agent.link.onLost(() => agent.stopped?.());
            agent.link.channel.send(FrameType.Stop, 0, 0);
            agent.link.channel.flush();
          }),
      ),
    );
    for (const agent of this.agents) agent.link.close();
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
      contextOps: this.issuedContext,
      sharedVersions: this.shared.versionsCreated,
      sharedBytesSent: this.counters.sharedBytesSent,
    };
  }
}

const EMPTY = Buffer.alloc(0);
