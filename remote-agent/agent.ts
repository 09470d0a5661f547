// The agent: one per host, frames on stdin/stdout. It routes frames between the master and its
// slaves by header (never decoding op payloads: router.ts), supervises the slaves (slave-process.ts,
// watchdogs.ts), caches shared data for them (shared-relay.ts) and forwards what they print as Log
// frames. It exits when its stdin closes, taking its slaves along.
import { constants as bufferConstants } from "node:buffer";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Socket } from "node:net";
import os from "node:os";
import { WriteStream, isatty } from "node:tty";
import type { Readable } from "node:stream";
import { decode, encode } from "../core/protocol/codec.ts";
import { FrameType, encodeFrame } from "../core/protocol/frame.ts";
import { PROTOCOL_VERSION, type Config, type Hello, type Spawn } from "../core/protocol/messages.ts";
import { wordBitsOf } from "../core/protocol/host-room.ts";
import { artefactId } from "../core/protocol/manifest.ts";
import { MasterOutput } from "./master-output.ts";
import { MasterRouter } from "./router.ts";
import { SharedRelay } from "./shared-relay.ts";
import { SlaveProcess } from "./slave-process.ts";
import { slabSocket } from "./slab-socket.ts";
import { LifelineWatch, MasterWatch, every } from "./watchdogs.ts";

/** On a clean stop, slaves still running after this are killed: before the master's own 3 s limit, so that it still hears Stopped. */
const STOP_GRACE_MS = 2500;

export function runAgent(agentFile: string): void {
  // stdout carries frames only: anything the agent itself prints goes to stderr.
  for (const method of ["log", "info", "warn", "debug"] as const) console[method] = console.error;
  const build = artefactId(readFileSync(agentFile));
  // `srun -u` hands the task a pseudo-terminal as stdout (raw: no output processing, so bytes pass
  // unchanged), which net.Socket refuses; a pipe or socket (a local child, SSH) is a Socket.
  const output = isatty(1) ? new WriteStream(1) : new Socket({ fd: 1, readable: false, writable: true });
  output.on("error", () => shutdown());

  let config: Config | null = null;
  const slaves = new Map<number, SlaveProcess>();
  const toMaster = new MasterOutput((bytes) => output.write(bytes));
  const masterWatch = new MasterWatch(Date.now());

  const fatal = (message: string) => {
    toMaster.send(encodeFrame(FrameType.Fatal, 0, 0, encode(message)));
    toMaster.flush();
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
    byteOrder: os.endianness(),
    wordBits: wordBitsOf(process.arch),
    maxBufferBytes: bufferConstants.MAX_LENGTH,
    freeMemoryBytes: os.freemem(),
    startupMs: Math.round(process.uptime() * 1000),
  };
  toMaster.send(encodeFrame(FrameType.Hello, 0, 0, encode(hello)));
  toMaster.flush();

  const running = (id: number): SlaveProcess | undefined => {
    const slave = slaves.get(id);
    return slave && !slave.exited ? slave : undefined;
  };
  const relay = new SharedRelay({
    toMaster: (frame) => toMaster.send(frame),
    toSlave: (id, bytes) => {
      const target = running(id);
      if (!target) return false;
      target.socket.write(bytes);
      return true;
    },
    killSlave: (id, reason) => {
      const target = running(id);
      if (target) target.kill(reason);
    },
    // Measured when a slave asks: free memory moves while the run goes on.
    room: () => ({ wordBits: hello.wordBits, maxBufferBytes: bufferConstants.MAX_LENGTH, freeMemoryBytes: os.freemem() }),
    fromFile: async (hash) => (config?.sharedDir ? readFile(path.join(config.sharedDir, hash)).catch(() => null) : null),
  });

  const router = new MasterRouter({
    slave: (id) => running(id)?.socket,
    slaves: function* () {
      for (const slave of slaves.values()) yield slave.socket;
    },
    sharedData: (fetchId, flags, chunk) => relay.receive(fetchId, flags, chunk),
    control: (type, _flags, id, payload) => handleControl(type, id, payload),
  });

  const fromMaster = (chunk: Buffer) => {
    masterWatch.heard(Date.now());
    try {
      router.push(chunk);
    } catch (error) {
      fatal(`agent: ${(error as Error).message}`);
      shutdown();
    }
  };
  const input = readStdin(fromMaster);
  input.on("end", () => shutdown());
  input.on("close", () => shutdown());
  input.on("error", () => shutdown());

  function handleControl(type: number, id: number, payload: Buffer): void {
    switch (type) {
      case FrameType.Config:
        config = decode(payload) as Config;
        startWatching(config);
        return;
      case FrameType.Spawn:
        return spawnSlave(id, decode(payload) as Spawn);
      case FrameType.Kill:
        slaves.get(id)?.kill();
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

  function spawnSlave(id: number, request: Spawn): void {
    if (!config) return fatal("agent: Spawn before Config");
    const slave = new SlaveProcess(id, request.slot, agentFile, config, request.startTimeoutMs, {
      toMaster: (frame) => toMaster.send(frame),
      flushToMaster: () => toMaster.flush(),
      sharedGet: (from, requestId, { hash, size }) => relay.get(from, requestId, hash, size),
      ended: (ended) => {
        slaves.delete(ended.id);
        relay.dropSlave(ended.id);
      },
    });
    slaves.set(id, slave);
  }

  /** Heartbeats to the master; slaves whose lifeline went silent are killed; a silent master ends the agent. */
  function startWatching({ heartbeatMs, masterTimeoutMs, slaveHeartbeatMs, slaveTimeoutMs }: Config): void {
    every(heartbeatMs, () => toMaster.send(encodeFrame(FrameType.Heartbeat, 0, 0)));
    const lifelines = new LifelineWatch(slaveTimeoutMs, Date.now());
    every(slaveHeartbeatMs, () => {
      for (const slave of lifelines.check(Date.now(), slaves.values())) slave.kill();
    });
    masterWatch.start(masterTimeoutMs, Date.now());
    every(heartbeatMs, () => {
      const silentMs = masterWatch.check(Date.now());
      if (silentMs === null) return;
      process.stderr.write(`agent: nothing from the master for ${silentMs} ms; stopping\n`);
      shutdown();
    });
  }

  /**
   * A clean end: closing a slave's channel makes it exit by itself, and its 'close' event comes only
   * after its stdout and stderr ended, so every line it printed has been forwarded by then.
   */
  function stopSlaves(): void {
    const reportStopped = () => {
      toMaster.send(encodeFrame(FrameType.Stopped, 0, 0));
      toMaster.flush();
    };
    const stopping = [...slaves.values()];
    if (stopping.length === 0) return reportStopped();
    let left = stopping.length;
    const force = setTimeout(() => {
      for (const slave of slaves.values()) slave.kill();
    }, STOP_GRACE_MS);
    for (const slave of stopping) {
      slave.onClose(() => {
        if (--left > 0) return;
        clearTimeout(force);
        // Let the SlaveExit and Log frames queued by the close handlers go first.
        setImmediate(reportStopped);
      });
      slave.endChannel();
    }
  }

  let stopping = false;
  function shutdown(): void {
    if (stopping) return;
    stopping = true;
    for (const slave of slaves.values()) slave.kill();
    // Give the kills a moment to be delivered, then go.
    setTimeout(() => process.exit(0), 50).unref();
    setTimeout(() => process.exit(0), 50);
  }
}

/**
 * stdin read through slabs (slab-socket.ts) when it is a pipe or a socket, as it is under mnt (a
 * child's pipe, an SSH exec channel); anything else (a terminal, a file) through process.stdin.
 */
function readStdin(onData: (chunk: Buffer) => void): Readable {
  try {
    return slabSocket(0, false, onData);
  } catch {
    process.stdin.on("data", onData);
    return process.stdin;
  }
}
