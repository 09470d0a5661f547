// The master runtime, as the program and the CLI see it: issue worker and context ops, set shared
// data, add hosts, wait, stop. It wires the pure scheduler (scheduler/) to the host supervisor,
// which alone talks to agents, and to the shared-data server. It reports through typed events and
// never prints.
import { encode } from "../protocol/codec.ts";
import type { FrameChannel } from "../protocol/channel.ts";
import { AbortError, MntError } from "../errors.ts";
import type { OpOptions, RunStats } from "../program/index.ts";
import { HostSupervisor, type AgentSpec, type SupervisorEvent } from "./host-supervisor.ts";
import { summarizeInput } from "./recovery.ts";
import { systemClock } from "./scheduler/ports.ts";
import { Scheduler, type SchedulerEvent } from "./scheduler/scheduler.ts";
import type { OpSettler, WorkerOp } from "./scheduler/types.ts";
import { SharedServer } from "./shared-server.ts";
import { rethrowWithAwaitSite } from "./issue-site.ts";
import type { Hello } from "../protocol/messages.ts";
import type { RunObserver } from "./run-observer.ts";
import type { SettingNames } from "./scheduler/start-limit.ts";

export type { AgentSpec } from "./host-supervisor.ts";
export type RuntimeEvent = SupervisorEvent | SchedulerEvent;

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
  /** ...and a slave silent this long (stopped, frozen) is killed by its agent and replaced, once it has started. */
  slaveTimeoutMs?: number;
  /**
   * A slave not ready this long after it was spawned (Node.js, the program and its init loading),
   * or an agent that has not said hello this long after it was started, counts as a failed start.
   * The limit of a host of ordinary speed: raised on a host that has shown it starts slowly (see
   * scheduler/start-limit.ts). A slave is judged by it, not by its heartbeat, until it is ready.
   */
  startTimeoutMs?: number;
  /** How the user sets the limits a message may tell them to raise (the CLI passes its flags). */
  settingNames?: SettingNames;
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
  /** Told about every op, slave and agent of the run (--trace, --joblog); none by default. */
  observer?: RunObserver;
}

export const RUNTIME_DEFAULTS = {
  heartbeatMs: 1000,
  heartbeatTimeoutMs: 10_000,
  masterTimeoutMs: 60_000,
  slaveHeartbeatMs: 500,
  slaveTimeoutMs: 5000,
  // Ray gives a worker process 60 s to register (worker_register_timeout_seconds) for the same reason.
  startTimeoutMs: 60_000,
  hangGraceMs: 2000,
  poisonKills: 3,
  maxSlaveFailures: 10,
  maxStartFailures: 3,
  maxAgentFailures: 5,
  waitForHostsMs: 30_000,
  maxDepth: 256,
  pipelineBudgetUs: 1000,
} satisfies Partial<RuntimeOptions>;

const EMPTY = new Uint8Array(0);

/**
 * Settles the promise of one op. A class, not closures: a million ops may be queued at once, and
 * each closure would cost its own function object.
 */
class PromiseSettler implements OpSettler {
  /** The promise the program holds, to quiet when the op is abandoned. */
  held: Promise<unknown> | null = null;

  constructor(
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
  ) {}

  abandon(error: Error): void {
    this.held?.catch(ignore);
    this.reject(error);
  }
}

function ignore(): void {}

/** A promise and what settles it; failures carry the program's awaiting frames (issue-site.ts). */
function settler(): { promise: Promise<unknown>; settle: PromiseSettler } {
  let settle!: PromiseSettler;
  const inner = new Promise<unknown>((resolve, reject) => (settle = new PromiseSettler(resolve, reject)));
  const promise = inner.then(undefined, rethrowWithAwaitSite);
  settle.held = promise;
  return { promise, settle };
}

export class Runtime {
  private readonly listeners: Array<(event: RuntimeEvent) => void> = [];
  private readonly scheduler: Scheduler;
  private readonly supervisor: HostSupervisor;
  private readonly sharedServer: SharedServer;
  private readonly observer: RunObserver | null;

  constructor(options: RuntimeOptions) {
    const resolved = { ...RUNTIME_DEFAULTS, ...options };
    const observer = options.observer ?? null;
    this.observer = observer;
    observer?.runStarted(options.workerNames, options.contextNames, performance.now());
    const emit = (event: RuntimeEvent) => {
      observer?.event(event, performance.now());
      for (const listener of this.listeners) listener(event);
    };
    this.sharedServer = new SharedServer({
      readySlaves: () => this.readySlaveChannels(),
      agents: () => this.supervisor.channels(),
    });
    this.supervisor = new HostSupervisor(resolved, this.sharedServer, emit);
    this.scheduler = new Scheduler(resolved, this.supervisor, systemClock, {
      emit,
      released: (op) => this.sharedServer.release(op.epoch),
      describeInput: (op) => summarizeInput(Buffer.from(op.payload.buffer, op.payload.byteOffset, op.payload.byteLength)),
      observer,
    });
    this.supervisor.attach(this.scheduler);
  }

  get shared() {
    return this.sharedServer.store;
  }

  get fatalError(): MntError | null {
    return this.scheduler.fatalError;
  }

  onEvent(listener: (event: RuntimeEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Adds a host. Resolves with the first agent's hello, rejects when that first connection fails
   * (the runtime keeps trying in the background unless the failure cannot heal, e.g. a wrong build).
   */
  addAgent(spec: AgentSpec): Promise<Hello> {
    return this.supervisor.add(spec);
  }

  issueWorker(nameIndex: number, name: string, input: unknown, options: OpOptions | undefined): Promise<unknown> {
    if (this.scheduler.fatalError) return Promise.reject(this.scheduler.fatalError);
    let payload: Uint8Array;
    try {
      payload = input === undefined ? EMPTY : encode(input, `input of ${name}`);
    } catch (error) {
      return Promise.reject(new MntError("encode", (error as Error).message));
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError(`${name} was cancelled before it started`, signal.reason));
    const { promise, settle } = settler();
    const op = this.scheduler.issueWorker(
      { nameIndex, payload, epoch: this.sharedServer.store.retain(), retries: options?.retries, timeout: options?.timeout, tags: options?.tags },
      settle,
    );
    if (signal) this.cancelOnAbort(op, name, signal, promise);
    return promise;
  }

  issueContext(nameIndex: number, name: string, input: unknown): Promise<void> {
    if (this.scheduler.fatalError) return Promise.reject(this.scheduler.fatalError);
    let payload: Uint8Array;
    try {
      payload = input === undefined ? EMPTY : encode(input, `input of context op ${name}`);
    } catch (error) {
      return Promise.reject(new MntError("encode", (error as Error).message));
    }
    const { promise, settle } = settler();
    this.scheduler.issueContext(nameIndex, payload, settle);
    return promise as Promise<void>;
  }

  setShared(key: string, value: unknown): void {
    if (this.scheduler.fatalError) throw this.scheduler.fatalError;
    this.sharedServer.set(key, value);
    this.observer?.sharedSet(key, performance.now());
  }

  /** Stops the run: every op not finished is rejected with `error`. */
  fatal(error: MntError): void {
    this.scheduler.fatal(error);
  }

  /** Resolves when no op is queued or running and every context op has settled. */
  whenIdle(): Promise<void> {
    return this.scheduler.whenIdle();
  }

  /** Closes every agent connection (agents then stop their slaves) and rejects what is left. */
  close(reason = "the run is stopping"): void {
    if (this.scheduler.isClosing) return;
    this.scheduler.close(reason);
    this.supervisor.closeLinks();
  }

  /**
   * Ends the run cleanly: slaves exit on their own and everything they printed reaches the master
   * before the connections close (at most `timeoutMs`, then close regardless).
   */
  async stop(reason = "the run has ended", timeoutMs = 3000): Promise<void> {
    if (this.scheduler.isClosing) return;
    this.scheduler.close(reason);
    await this.supervisor.stop(timeoutMs);
  }

  /** Ends every agent connection for good: resolves when their processes are gone (bounded). */
  async disconnect(): Promise<void> {
    this.close();
    await this.supervisor.disconnectAll();
  }

  /** Ops the slaves can hold at once now (pipeline depths added up): what keeps every slave busy. */
  get pipelineCapacity(): number {
    return this.scheduler.pipelineCapacity;
  }

  stats(): RunStats {
    return { ...this.scheduler.stats(), sharedVersions: this.sharedServer.store.versionsCreated, sharedBytesSent: this.sharedServer.bytesSent };
  }

  /**
   * An abort of the op's signal cancels it. The listener goes when the op settles: `m.map` passes
   * one signal to every op, and listeners must not pile up one per op over a long run.
   */
  private cancelOnAbort(op: WorkerOp, name: string, signal: AbortSignal, promise: Promise<unknown>): void {
    const onAbort = () => this.scheduler.cancel(op, new AbortError(`${name} was cancelled`, signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    const remove = () => signal.removeEventListener("abort", onAbort);
    promise.then(remove, remove);
  }

  private *readySlaveChannels(): IterableIterator<{ channel: FrameChannel; slave: number }> {
    for (const { host, id } of this.scheduler.readySlaves()) {
      const channel = this.supervisor.channelOf(host);
      if (channel) yield { channel, slave: id };
    }
  }
}
