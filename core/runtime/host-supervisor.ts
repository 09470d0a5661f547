// The one part of the master that talks to agents: it connects each host (and reconnects when the
// scheduler says so), turns the agents' frames into scheduler events, and carries out the
// scheduler's decisions as frames (SlavePort). Everything about *what* to do is the scheduler's.
import { decode, encode, errorFromWire, type WireError } from "../protocol/codec.ts";
import type { AgentConnection } from "../connections/connection.ts";
import { FrameChannel, type IncomingFrame } from "../protocol/channel.ts";
import { FLAG_ERROR, FLAG_STDERR, FrameError, FrameType } from "../protocol/frame.ts";
import type { Hello, SlaveExit, SlaveReady, Spawn } from "../protocol/messages.ts";
import { decodeResult, encodeContextPayload, encodeOpFrame, encodeOpPayload, opPayloadBytes } from "../protocol/op-frames.ts";
import { AbortError, MntError } from "../errors.ts";
import { AgentLink } from "./agent-link.ts";
import { describeSlaveExit } from "./recovery.ts";
import type { SlavePort } from "./scheduler/ports.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";
import { helloLimitMs, startTimeoutSetting, type SettingNames } from "./scheduler/start-limit.ts";
import type { ContextOp, WorkerOp } from "./scheduler/types.ts";
import type { SharedServer } from "./shared-server.ts";
import type { RunObserver } from "./run-observer.ts";

export interface AgentSpec {
  host: string;
  /** Starts an agent and connects to it; called again to reconnect after the agent was lost. */
  connect: () => Promise<AgentConnection>;
  /** Slaves to run there; "auto" = the host's core count. */
  slots: number | "auto";
  /** Path of the program bundle on that host. */
  programPath: string;
  /** Labels ops can require (`m.worker.x(input, { tags })`). */
  tags?: readonly string[];
  /** A folder the master and this host both see: shared data reaches the host as files there (see Config.sharedDir). */
  sharedDir?: string;
}

export type SupervisorEvent =
  | { kind: "log"; host: string; slot: number | null; stream: "stdout" | "stderr"; line: string }
  | { kind: "agent.up"; host: string; hello: Hello; slots: number }
  /** `wasUp`: false when the connection failed before the agent said hello (a host not reached). */
  | { kind: "agent.lost"; host: string; reason: string; wasUp: boolean };

export interface SupervisorOptions {
  workerNames: readonly string[];
  contextNames: readonly string[];
  expectedBuild: string | null;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  masterTimeoutMs: number;
  slaveHeartbeatMs: number;
  slaveTimeoutMs: number;
  /** An agent's hello must come within this (raised by how long the host's agent took last time: start-limit.ts). */
  startTimeoutMs: number;
  /** How the user raises it, for the message when a hello does not come. */
  settingNames?: SettingNames;
  env?: Record<string, string>;
  /** Told when an agent's fetch of shared data is served (--trace). */
  observer?: RunObserver | null;
}

/** One host's agent, across reconnections. */
interface AgentHandle {
  spec: AgentSpec;
  link: AgentLink | null;
  connection: AgentConnection | null;
  slots: number;
  /** Settles with the first connection's hello (what addAgent returns). */
  first: { resolve: (hello: Hello) => void; reject: (error: Error) => void } | null;
  lastError: Error | null;
  /** Set while a clean stop waits for the agent's Stopped frame. */
  stopped?: () => void;
  /** How long its agent took to start last time (Hello.startupMs), for the next hello's limit; null before the first. */
  lastStartupMs: number | null;
}

/** Signals a program does not raise by crashing: someone or something else ended the slave. */
const SIGNALS_FROM_OUTSIDE = new Set(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]);

export class HostSupervisor implements SlavePort {
  private readonly agents = new Map<string, AgentHandle>();
  /** Each live slave's slot, for messages ("host:slot"). */
  private readonly slotOf = new Map<number, number>();
  private scheduler!: Scheduler;
  private closing = false;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly shared: SharedServer,
    private readonly emit: (event: SupervisorEvent) => void,
  ) {}

  /** Wires the scheduler in (the two refer to each other: decisions one way, events the other). */
  attach(scheduler: Scheduler): void {
    this.scheduler = scheduler;
  }

  /** Adds a host; resolves with its first agent's hello, rejects when that first connection fails. */
  add(spec: AgentSpec): Promise<Hello> {
    const first = new Promise<Hello>((resolve, reject) => {
      this.agents.set(spec.host, { spec, link: null, connection: null, slots: 0, first: { resolve, reject }, lastError: null, lastStartupMs: null });
    });
    first.catch(() => {});
    if (spec.sharedDir) this.shared.mirrorTo(spec.sharedDir);
    this.scheduler.addHost(spec.host, spec.slots, spec.tags ?? []);
    return first;
  }

  // ---------------------------------------------------------------- SlavePort

  connect(host: string): void {
    const agent = this.agents.get(host)!;
    void this.open(agent);
  }

  disconnect(host: string): void {
    const agent = this.agents.get(host);
    if (!agent) return;
    const link = agent.link;
    agent.link = null;
    link?.close();
    void agent.connection?.close();
    agent.connection = null;
  }

  spawn(host: string, slave: number, slot: number, startLimitMs: number): void {
    const spawn: Spawn = { slot, startTimeoutMs: startLimitMs };
    this.slotOf.set(slave, slot);
    this.channelOf(host)?.send(FrameType.Spawn, 0, slave, encode(spawn));
  }

  sendOp(host: string, slave: number, op: WorkerOp): void {
    const channel = this.channelOf(host);
    if (!channel) return;
    const header = { nameIndex: op.nameIndex, epoch: op.epoch, ctxVersion: op.ctxVersion, attempt: op.attempt };
    if (opPayloadBytes(op.payload.length) <= channel.maxPayload) channel.sendRaw(encodeOpFrame(slave, op.id, header, op.payload));
    else channel.send(FrameType.Op, slave, op.id, encodeOpPayload(header, op.payload));
  }

  sendContext(host: string, slave: number, entry: ContextOp): void {
    this.channelOf(host)?.send(FrameType.Context, slave, entry.seq, encodeContextPayload(entry.nameIndex, entry.payload));
  }

  cancel(host: string, slave: number, opId: number): void {
    this.channelOf(host)?.send(FrameType.Cancel, slave, opId);
  }

  kill(host: string, slave: number): void {
    this.channelOf(host)?.send(FrameType.Kill, 0, slave);
  }

  // ---------------------------------------------------------------- run control

  /** The channel of every connected agent (shared-data frees go to each). */
  *channels(): IterableIterator<FrameChannel> {
    for (const agent of this.agents.values()) if (agent.link && agent.link.hello) yield agent.link.channel;
  }

  channelOf(host: string): FrameChannel | null {
    return this.agents.get(host)?.link?.channel ?? null;
  }

  /**
   * Asks every connected agent to stop cleanly: slaves exit on their own and everything they
   * printed reaches the master (at most `timeoutMs`, then the connections close regardless).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.closing = true;
    const live = [...this.agents.values()].filter((agent) => agent.link?.hello && !agent.link.isLost);
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
    this.closeLinks();
  }

  closeLinks(): void {
    this.closing = true;
    for (const agent of this.agents.values()) agent.link?.close();
  }

  /** Ends every agent connection for good: resolves when their processes are gone (bounded). */
  async disconnectAll(): Promise<void> {
    this.closeLinks();
    await Promise.all([...this.agents.values()].map((agent) => agent.connection?.close()));
  }

  // ---------------------------------------------------------------- inside

  private async open(agent: AgentHandle): Promise<void> {
    const { spec } = agent;
    let connection: AgentConnection;
    try {
      connection = await spec.connect();
    } catch (error) {
      const mnt = error instanceof MntError ? error : new MntError("infrastructure", `${spec.host}: cannot start the agent: ${(error as Error).message}`);
      return this.failed(agent, null, mnt);
    }
    if (this.closing || this.scheduler.isClosing) {
      void connection.close();
      return this.settleFirst(agent, new AbortError(`${spec.host}: the run is stopping`));
    }
    const link = new AgentLink(new FrameChannel(connection.transport, { peer: `agent on ${spec.host}` }), {
      host: spec.host,
      expectedBuild: this.options.expectedBuild,
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      helloTimeoutMs: helloLimitMs(this.options.startTimeoutMs, agent.lastStartupMs),
      helloTimeoutHint: `check that \`node\` runs on that host, or raise the start-up limit with ${startTimeoutSetting(this.options.settingNames)}`,
      config: {
        program: spec.programPath,
        heartbeatMs: this.options.heartbeatMs,
        masterTimeoutMs: this.options.masterTimeoutMs,
        slaveHeartbeatMs: this.options.slaveHeartbeatMs,
        slaveTimeoutMs: this.options.slaveTimeoutMs,
        env: this.options.env,
        sharedDir: spec.sharedDir,
      },
    });
    agent.link = link;
    agent.connection = connection;
    // Frames and losses of an earlier connection to this host must not touch the current one.
    link.onFrame((frame) => agent.link === link && this.onFrame(agent, frame));
    link.onLost((error) => agent.link === link && this.failed(agent, link, error));
    let hello: Hello;
    try {
      hello = await link.ready;
    } catch {
      return; // onLost has reported it
    }
    if (agent.link !== link || link.isLost) return;
    agent.slots = spec.slots === "auto" ? hello.cores : spec.slots;
    this.emit({ kind: "agent.up", host: spec.host, hello, slots: agent.slots });
    agent.first?.resolve(hello);
    agent.first = null;
    this.scheduler.hostRoom(spec.host, { wordBits: hello.wordBits, maxBufferBytes: hello.maxBufferBytes, freeMemoryBytes: hello.freeMemoryBytes });
    agent.lastStartupMs = hello.startupMs;
    this.scheduler.hostUp(spec.host, hello.cores, hello.startupMs);
  }

  /** The agent's connection failed or ended. */
  private failed(agent: AgentHandle, link: AgentLink | null, error: Error): void {
    const wasUp = link?.hello != null;
    if (link) {
      agent.link = null;
      link.fail(error);
      void agent.connection?.close();
      agent.connection = null;
    }
    agent.lastError = error;
    this.settleFirst(agent, error);
    if (!this.closing && !this.scheduler.isClosing) this.emit({ kind: "agent.lost", host: agent.spec.host, reason: error.message, wasUp });
    // A peer speaking the wrong protocol or build will not heal by reconnecting, nor will a refused host key or login.
    const hopeless = (error instanceof MntError && (error.code === "protocol" || error.code === "auth")) || (error instanceof FrameError && error.corrupt);
    this.scheduler.hostFailed(agent.spec.host, error.message, hopeless);
  }

  private settleFirst(agent: AgentHandle, error: Error): void {
    agent.first?.reject(error);
    agent.first = null;
  }

  private onFrame(agent: AgentHandle, frame: IncomingFrame): void {
    switch (frame.type) {
      case FrameType.Result:
        return this.onResult(frame);
      case FrameType.ContextAck:
        return this.scheduler.contextAck(frame.slave, frame.id, frame.flags & FLAG_ERROR ? errorFromWire(decode(frame.payload) as WireError) : null);
      case FrameType.Log:
        return this.onLog(agent, frame);
      case FrameType.Heartbeat:
        return;
      case FrameType.SlaveReady:
        return this.onSlaveReady(agent, frame);
      case FrameType.SlaveExit:
        return this.onSlaveExit(frame);
      case FrameType.SharedFetch:
        return this.answerFetch(agent, frame);
      case FrameType.Stopped:
        agent.stopped?.();
        return;
      case FrameType.Fatal:
        return agent.link?.fail(new MntError("infrastructure", `${agent.spec.host}: ${String(decode(frame.payload))}`));
      default:
        return agent.link?.fail(new MntError("protocol", `${agent.spec.host}: unexpected frame type ${frame.type} from the agent`));
    }
  }

  private onResult(frame: IncomingFrame): void {
    const { serviceUs, body } = decodeResult(frame.payload);
    const failed = (frame.flags & FLAG_ERROR) !== 0;
    this.scheduler.result(frame.slave, frame.id, serviceUs, failed, () => {
      if (failed) throw errorFromWire(decode(body) as WireError);
      return body.length === 0 ? undefined : decode(body);
    });
  }

  private answerFetch(agent: AgentHandle, frame: IncomingFrame): void {
    const observer = this.options.observer;
    if (!observer) return this.shared.answerFetch(agent.link!.channel, frame);
    const startedAt = performance.now();
    this.shared.answerFetch(agent.link!.channel, frame, (hash, bytes, ok) => observer.sharedFetched(agent.spec.host, hash, bytes, startedAt, ok, performance.now()));
  }

  private onSlaveReady(agent: AgentHandle, frame: IncomingFrame): void {
    const where = `${agent.spec.host}:${this.slotOf.get(frame.slave) ?? "?"}`;
    if (frame.flags & FLAG_ERROR) {
      const error = errorFromWire(decode(frame.payload) as WireError);
      // A program that cannot load will not load on a retry either: stop the run, say why.
      return this.scheduler.fatal(new MntError("program", `the program failed to load on ${where}: ${error.stack ?? error.message}`));
    }
    const ready = decode(frame.payload) as SlaveReady;
    if (ready.worker.join() !== this.options.workerNames.join() || ready.context.join() !== this.options.contextNames.join()) {
      return this.scheduler.fatal(new MntError("protocol", `${where} runs a different program build (ops ${ready.worker.join(", ")})`, "rebuild and redeploy"));
    }
    this.shared.introduce(agent.link!.channel, frame.slave);
    this.scheduler.slaveReady(frame.slave, ready.pid);
  }

  private onSlaveExit(frame: IncomingFrame): void {
    const exit = decode(frame.payload) as SlaveExit;
    this.slotOf.delete(frame.slave);
    // SIGKILL, SIGTERM… with no reason from the agent came from outside (an operator, a scheduler,
    // the kernel's OOM killer): the op that happened to be running is not charged with them.
    const fromOutside = exit.reason === null && exit.signal !== null && SIGNALS_FROM_OUTSIDE.has(exit.signal);
    this.scheduler.slaveExited(frame.slave, describeSlaveExit(exit), fromOutside, exit.runningOp);
  }

  private onLog(agent: AgentHandle, frame: IncomingFrame): void {
    const stream = frame.flags & FLAG_STDERR ? "stderr" : "stdout";
    for (const line of frame.payload.toString("utf8").split("\n")) {
      this.emit({ kind: "log", host: agent.spec.host, slot: frame.id, stream, line });
    }
  }
}
