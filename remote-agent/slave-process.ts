// One slave process as the agent runs it: spawned from the agent's own bundle with `--slave`, frames
// on fd 3 (a socketpair), its lifeline on fd 4, stdout and stderr forwarded as Log frames. Frames
// from the slave are checked by header alone and passed on raw: SharedGet to the agent's cache, the
// rest to the master. When it ends, a SlaveExit tells the master how, with its stderr tail and, if
// the agent killed it, why.
import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import os from "node:os";
import { encode } from "../core/protocol/codec.ts";
import { FrameError, FrameSplitter, FrameType, HEADER_BYTES, encodeFrame, frameTypeName } from "../core/protocol/frame.ts";
import type { Config, SlaveExit } from "../core/protocol/messages.ts";
import { decodeSharedGet } from "../core/protocol/shared-get.ts";
import { RUNNING_OP_ENV, RUNNING_OP_FD, RunningOpRecord } from "./running-op.ts";
import { SlaveOutput } from "./slave-output.ts";
import type { StartingSlave, WatchedSlave } from "./watchdogs.ts";

/** The frames a slave sends (see slave.ts); anything else on its channel means the channel is corrupt. */
const FROM_SLAVE = new Set<number>([FrameType.SlaveReady, FrameType.Result, FrameType.ContextAck, FrameType.SharedGet]);

/** A well-formed frame header that no slave of this agent would send (wrong slave id or type). */
export class ForeignFrame extends FrameError {}

export interface SlaveProcessPorts {
  /** Queues a frame for the master. */
  toMaster(frame: Buffer): void;
  /** Sends what is queued for the master now. */
  flushToMaster(): void;
  /** The slave asks for a shared value, `size` bytes as its version announced (the agent's cache answers). */
  sharedGet(slave: number, request: number, wanted: { hash: string; size: number }): void;
  /** The process ended, before its SlaveExit is sent: forget it. */
  ended(slave: SlaveProcess): void;
}

export class SlaveProcess implements WatchedSlave {
  readonly process: ChildProcess;
  /** Its frame channel (fd 3). */
  readonly socket: Socket;
  exited = false;
  lastBeat = Date.now();
  /** Until its SlaveReady: judged by its start-up limit, not its heartbeat (watchdogs.ts). */
  starting: StartingSlave | null;
  killReason: string | null = null;
  private readonly output: SlaveOutput;
  private readonly runningOp = new RunningOpRecord();

  constructor(
    readonly id: number,
    readonly slot: number,
    agentFile: string,
    config: Config,
    startTimeoutMs: number,
    private readonly ports: SlaveProcessPorts,
  ) {
    this.starting = { since: this.lastBeat, limitMs: startTimeoutMs };
    this.process = spawn(process.execPath, [agentFile, "--slave"], {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe", this.runningOp.fd ?? "ignore"],
      env: {
        ...process.env,
        ...config.env,
        MNT_SLAVE_ID: String(id),
        MNT_SLOT: String(slot),
        MNT_PROGRAM: config.program,
        MNT_HOST: os.hostname(),
        MNT_SLAVE_HEARTBEAT_MS: String(config.slaveHeartbeatMs),
        ...(this.runningOp.fd !== null ? { [RUNNING_OP_ENV]: String(RUNNING_OP_FD) } : {}),
      },
    });
    const child = this.process;
    this.socket = child.stdio[3] as Socket;
    const lifeline = child.stdio[4] as Socket;
    lifeline.on("data", () => {
      this.lastBeat = Date.now();
    });
    lifeline.on("error", () => {});
    this.output = new SlaveOutput(id, slot, ports.toMaster);
    child.stdout!.on("data", (chunk: Buffer) => this.output.stdout.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => this.output.stderr.push(chunk));
    this.readFrames();
    child.on("error", (error) => process.stderr.write(`agent: cannot start a slave: ${error.message}\n`));
    child.on("close", (code, signal) => {
      this.output.end();
      this.exited = true;
      ports.ended(this);
      const exit: SlaveExit = { code, signal, stderrTail: this.output.stderrTail, reason: this.killReason, runningOp: this.runningOp.readAndClose() };
      ports.toMaster(encodeFrame(FrameType.SlaveExit, id, 0, encode(exit)));
    });
  }

  /** SIGKILL; `reason` (if it has none yet) is what the master hears in the SlaveExit. */
  kill(reason?: string): void {
    if (reason) this.killReason ??= reason;
    this.process.kill("SIGKILL");
  }

  /** Calls `listener` once the process has ended and its stdout and stderr are read out. */
  onClose(listener: () => void): void {
    this.process.once("close", listener);
  }

  /** Closes its frame channel: a slave exits by itself when fd 3 closes (a clean stop). */
  endChannel(): void {
    this.socket.end();
  }

  /**
   * It is ready (or says it cannot load the program, and exits): from now on it has to keep
   * beating. The frame itself shows it alive, in case its lifeline has not beaten yet.
   */
  private started(): void {
    this.starting = null;
    this.lastBeat = Date.now();
  }

  private readFrames(): void {
    const { id, ports } = this;
    const fromSlave = new FrameSplitter(
      (type, _flags, _slave, request, raw) => {
        if (type === FrameType.SlaveReady) this.started();
        // Shared-data requests are the agent's business (its cache); everything else goes to the master.
        if (type === FrameType.SharedGet) ports.sharedGet(id, request, decodeSharedGet(raw.subarray(HEADER_BYTES)));
        else ports.toMaster(raw);
      },
      undefined,
      // Checked on the header alone: a bogus length must not make the agent wait for bytes (and
      // swallow the slave's real frames as their payload).
      (type, _flags, from) => {
        if (from !== id) throw new ForeignFrame(`a ${frameTypeName(type)} frame with slave id ${from}, not its own id ${id}`);
        if (!FROM_SLAVE.has(type)) throw new ForeignFrame(`a ${frameTypeName(type)} frame, which slaves do not send`);
      },
    );
    // User code in the slave wrote onto its frame channel (fd 3): nothing more from it can be trusted.
    let corrupt = false;
    this.socket.on("data", (chunk: Buffer) => {
      if (corrupt) return;
      try {
        fromSlave.push(chunk);
      } catch (error) {
        corrupt = true;
        const what = (error as Error).message;
        process.stderr.write(`agent: slave ${this.slot}: ${what}${error instanceof ForeignFrame ? "; killing it" : ""}\n`);
        this.kill(`its frame channel is corrupt: ${what}; the agent killed it`);
      }
      // Results leave now: waiting for the next tick only adds latency to every op.
      ports.flushToMaster();
    });
    this.socket.on("error", () => {});
  }
}
