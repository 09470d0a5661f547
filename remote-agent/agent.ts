// The agent: one per host, frames on stdin/stdout. It routes frames between the master and its
// slaves by header (never decoding op payloads), supervises the slaves, caches shared data for them
// and forwards what they print as Log frames. It exits when its stdin closes, taking its slaves along.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { Socket } from "node:net";
import os from "node:os";
import { decode, encode } from "../core/protocol/codec.ts";
import { FLAG_STDERR, FrameError, FrameSplitter, FrameType, HEADER_BYTES, Reassembler, encodeFrame, encodeMessage, frameTypeName } from "../core/protocol/frame.ts";
import { PROTOCOL_VERSION, type Config, type Hello, type SlaveExit, type Spawn } from "../core/protocol/messages.ts";
import { LineSplitter } from "../core/protocol/line-splitter.ts";
import { artefactId } from "../core/protocol/manifest.ts";
import { SharedRelay } from "./shared-relay.ts";

const STDERR_TAIL_LINES = 20;

/** The frames a slave sends (see slave.ts); anything else on its channel means the channel is corrupt. */
const FROM_SLAVE = new Set<number>([FrameType.SlaveReady, FrameType.Result, FrameType.ContextAck, FrameType.SharedGet]);

/** A well-formed frame header that no slave of this agent would send (wrong slave id or type). */
class ForeignFrame extends FrameError {}

interface SlaveProcess {
  id: number;
  slot: number;
  process: ChildProcess;
  socket: Socket;
  stderrTail: string[];
  exited: boolean;
  /** When its lifeline last beat (see lifeline.ts). */
  lastBeat: number;
  /** Set when the agent itself kills it, so the master hears why. */
  killReason: string | null;
}

export function runAgent(agentFile: string): void {
  // stdout carries frames only: anything the agent itself prints goes to stderr.
  for (const method of ["log", "info", "warn", "debug"] as const) console[method] = console.error;
  const build = artefactId(readFileSync(agentFile));
  const input = process.stdin;
  const output = new Socket({ fd: 1, readable: false, writable: true });
  output.on("error", () => shutdown());

  let config: Config | null = null;
  const slaves = new Map<number, SlaveProcess>();
  const fromMaster = new Reassembler();
  let toMaster: Buffer[] = [];
  let flushScheduled = false;
  let lastFromMaster = Date.now();

  const flushToMaster = () => {
    flushScheduled = false;
    if (toMaster.length === 0) return;
    const bytes = toMaster.length === 1 ? toMaster[0]! : Buffer.concat(toMaster);
    toMaster = [];
    output.write(bytes);
  };
  const sendToMaster = (frame: Buffer) => {
    toMaster.push(frame);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushToMaster);
    }
  };
  const fatal = (message: string) => {
    sendToMaster(encodeFrame(FrameType.Fatal, 0, 0, encode(message)));
    flushToMaster();
  };

  const hello: Hello = {
    protocol: PROTOCOL_VERSION,
    build,
    arch: process.arch,
    platform: process.platform,
    node: process.versions.node,
    napi: process.versions.napi ?? "",
    hostname: os.hostname(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    pid: process.pid,
  };
  sendToMaster(encodeFrame(FrameType.Hello, 0, 0, encode(hello)));
  flushToMaster();

  const relay = new SharedRelay({
    toMaster: sendToMaster,
    toSlave: (id, bytes) => {
      const target = slaves.get(id);
      if (!target || target.exited) return false;
      target.socket.write(bytes);
      return true;
    },
    killSlave: (id, reason) => {
      const target = slaves.get(id);
      if (!target || target.exited) return;
      target.killReason = reason;
      target.process.kill("SIGKILL");
    },
  });

  const splitter = new FrameSplitter((type, flags, slave, id, raw) => {
    if (slave !== 0) {
      const target = slaves.get(slave);
      if (target && !target.exited) target.socket.write(raw);
      return;
    }
    // Shared data is passed on chunk by chunk as it arrives (shared-relay.ts), not reassembled here.
    if (type === FrameType.SharedData) return relay.receive(id, flags, raw.subarray(HEADER_BYTES));
    const payload = fromMaster.add(type, flags, slave, id, raw.subarray(HEADER_BYTES));
    if (payload) handleControl(type, flags, id, payload);
  });

  input.on("data", (chunk: Buffer) => {
    lastFromMaster = Date.now();
    // Writes to each slave in this chunk leave together (cork/uncork = one writev per slave).
    for (const s of slaves.values()) s.socket.cork();
    try {
      splitter.push(chunk);
    } catch (error) {
      fatal(`agent: ${(error as Error).message}`);
      shutdown();
    } finally {
      for (const s of slaves.values()) s.socket.uncork();
    }
  });
  input.on("end", () => shutdown());
  input.on("close", () => shutdown());
  input.on("error", () => shutdown());

  function handleControl(type: number, flags: number, id: number, payload: Buffer): void {
    switch (type) {
      case FrameType.Config: {
        config = decode(payload) as Config;
        const beat = setInterval(() => sendToMaster(encodeFrame(FrameType.Heartbeat, 0, 0)), config.heartbeatMs);
        beat.unref();
        watchSlaves(config);
        watchMaster(config);
        return;
      }
      case FrameType.Spawn:
        return spawnSlave(id, decode(payload) as Spawn);
      case FrameType.Kill:
        slaves.get(id)?.process.kill("SIGKILL");
        return;
      case FrameType.Heartbeat:
        return;
      case FrameType.Stop:
        return stopSlaves();
      case FrameType.SharedFree:
        relay.free(decode(payload) as string[]);
        return;
      default:
        fatal(`agent: unexpected frame type ${type} for the agent`);
    }
  }

  function spawnSlave(id: number, spawnRequest: Spawn): void {
    if (!config) return fatal("agent: Spawn before Config");
    const child = spawn(process.execPath, ["--enable-source-maps", agentFile, "--slave"], {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        ...config.env,
        MNT_SLAVE_ID: String(id),
        MNT_SLOT: String(spawnRequest.slot),
        MNT_PROGRAM: config.program,
        MNT_HOST: os.hostname(),
        MNT_SLAVE_HEARTBEAT_MS: String(config.slaveHeartbeatMs),
      },
    });
    const socket = child.stdio[3] as Socket;
    const slave: SlaveProcess = { id, slot: spawnRequest.slot, process: child, socket, stderrTail: [], exited: false, lastBeat: Date.now(), killReason: null };
    slaves.set(id, slave);
    const lifeline = child.stdio[4] as Socket;
    lifeline.on("data", () => (slave.lastBeat = Date.now()));
    lifeline.on("error", () => {});
    const forwardLines = (stream: number) => (lines: string[]) => {
      if (stream === FLAG_STDERR) {
        slave.stderrTail.push(...lines);
        if (slave.stderrTail.length > STDERR_TAIL_LINES) slave.stderrTail.splice(0, slave.stderrTail.length - STDERR_TAIL_LINES);
      }
      for (const frame of encodeMessage(FrameType.Log, id, slave.slot, Buffer.from(lines.join("\n")), stream)) sendToMaster(frame);
    };
    const out = new LineSplitter(forwardLines(0));
    const err = new LineSplitter(forwardLines(FLAG_STDERR));
    child.stdout!.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => err.push(chunk));
    const fromSlave = new FrameSplitter(
      (type, _flags, _slave, request, raw) => {
        // Shared-data requests are the agent's business (its cache); everything else goes to the master.
        if (type === FrameType.SharedGet) relay.get(id, request, raw.subarray(HEADER_BYTES).toString("utf8"));
        else sendToMaster(raw);
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
    socket.on("data", (chunk: Buffer) => {
      if (corrupt) return;
      try {
        fromSlave.push(chunk);
      } catch (error) {
        corrupt = true;
        const what = (error as Error).message;
        process.stderr.write(`agent: slave ${slave.slot}: ${what}${error instanceof ForeignFrame ? "; killing it" : ""}\n`);
        slave.killReason ??= `its frame channel is corrupt: ${what}; the agent killed it`;
        child.kill("SIGKILL");
      }
      // Results leave now: waiting for the next tick only adds latency to every op.
      flushToMaster();
    });
    socket.on("error", () => {});
    child.on("error", (error) => process.stderr.write(`agent: cannot start a slave: ${error.message}\n`));
    child.on("close", (code, signal) => {
      out.end();
      err.end();
      slave.exited = true;
      slaves.delete(id);
      relay.dropSlave(id);
      const exit: SlaveExit = { code, signal, stderrTail: slave.stderrTail, reason: slave.killReason };
      sendToMaster(encodeFrame(FrameType.SlaveExit, id, 0, encode(exit)));
    });
  }

  /**
   * Kills slaves whose lifeline stopped beating: stopped (SIGSTOP), frozen, or stuck outside
   * JavaScript. A long synchronous op does not stop the beat (it comes from its own thread).
   */
  function watchSlaves({ slaveHeartbeatMs, slaveTimeoutMs }: Config): void {
    let lastCheck = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      // If this agent itself was frozen, its slaves' beats wait unread in the pipes: not their fault.
      const agentWasFrozen = now - lastCheck > slaveTimeoutMs / 2;
      lastCheck = now;
      for (const slave of slaves.values()) {
        if (agentWasFrozen) slave.lastBeat = now;
        const silent = now - slave.lastBeat;
        if (slave.exited || slave.killReason || silent <= slaveTimeoutMs) continue;
        slave.killReason = `no heartbeat for ${silent} ms (stopped, frozen or hung); the agent killed it`;
        slave.process.kill("SIGKILL");
      }
    }, slaveHeartbeatMs);
    timer.unref();
  }

  /** A master silent for too long is gone (crashed host, dead link): leave, taking the slaves along. */
  function watchMaster({ heartbeatMs, masterTimeoutMs }: Config): void {
    let lastCheck = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      if (now - lastCheck > masterTimeoutMs / 2) lastCheck = lastFromMaster = now;
      lastCheck = now;
      if (now - lastFromMaster <= masterTimeoutMs) return;
      process.stderr.write(`agent: nothing from the master for ${now - lastFromMaster} ms; stopping\n`);
      shutdown();
    }, heartbeatMs);
    timer.unref();
  }

  /**
   * A clean end: closing a slave's channel makes it exit by itself, and its 'close' event comes only
   * after its stdout and stderr ended, so every line it printed has been forwarded by then.
   */
  function stopSlaves(): void {
    const reportStopped = () => {
      sendToMaster(encodeFrame(FrameType.Stopped, 0, 0));
      flushToMaster();
    };
    const running = [...slaves.values()];
    if (running.length === 0) return reportStopped();
    let left = running.length;
    // Before the master's own 3 s limit, so that it still hears Stopped.
    const force = setTimeout(() => {
      for (const slave of slaves.values()) slave.process.kill("SIGKILL");
    }, 2500);
    for (const slave of running) {
      slave.process.once("close", () => {
        if (--left > 0) return;
        clearTimeout(force);
        // Let the SlaveExit and Log frames queued by the close handlers go first.
        setImmediate(reportStopped);
      });
      slave.socket.end();
    }
  }

  let stopping = false;
  function shutdown(): void {
    if (stopping) return;
    stopping = true;
    for (const slave of slaves.values()) slave.process.kill("SIGKILL");
    // Give the kills a moment to be delivered, then go.
    setTimeout(() => process.exit(0), 50).unref();
    setTimeout(() => process.exit(0), 50);
  }
}
