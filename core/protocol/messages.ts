// Payloads of the control frames, as TypeScript types. Values are encoded with the codec.
import type { WireError } from "./codec.ts";

/** Bumped on any incompatible change to frames or payloads. */
export const PROTOCOL_VERSION = 1;

/** agent → master, first frame on a channel. */
export interface Hello {
  protocol: number;
  /** sha256 of the agent bundle the agent runs, so master and agent agree on one build. */
  build: string;
  arch: string;
  platform: string;
  node: string;
  napi: string;
  hostname: string;
  cores: number;
  pid: number;
  /** The host's byte order (`os.endianness()`): values cross the wire little-endian, and a "BE" side swaps. */
  byteOrder: "LE" | "BE";
  /** 32 or 64: a 32-bit host holds far smaller values (below). */
  wordBits: 32 | 64;
  /** The largest Buffer/ArrayBuffer its Node.js can allocate (`buffer.constants.MAX_LENGTH`). */
  maxBufferBytes: number;
  /** Free memory on the host when the agent started (`os.freemem()`). */
  freeMemoryBytes: number;
  /** How long the agent's process took from its start to this hello (Node.js and the bundle loading): how slow the host starts a process. */
  startupMs: number;
}

/** master → agent, once after the hello. */
export interface Config {
  /** Absolute path of the program bundle on the agent's host. */
  program: string;
  /** The agent sends a heartbeat this often. */
  heartbeatMs: number;
  /** The agent gives up on a master it has not heard from for this long (its slaves go with it). */
  masterTimeoutMs: number;
  /** Each slave's lifeline thread beats this often... */
  slaveHeartbeatMs: number;
  /** ...and a slave silent for this long is hung, stopped or frozen: the agent kills it. */
  slaveTimeoutMs: number;
  /** Extra environment for slaves. */
  env?: Record<string, string>;
  /**
   * A folder the master and this host both see (a shared file system): the master writes each
   * shared value there as a file named by its sha256, and the agent reads it from there instead
   * of fetching it through the connection (which may be far slower: srun). A value not there
   * (yet) is fetched as usual.
   */
  sharedDir?: string;
}

/** master → agent: start a slave. */
export interface Spawn {
  slot: number;
  /**
   * Until it is ready (its SlaveReady), the slave is judged by this limit from its spawn, not by
   * its heartbeat: the agent kills it past it. The master's limit for this host (raised where the
   * host has shown it starts slowly: core/runtime/scheduler/start-limit.ts).
   */
  startTimeoutMs: number;
}

/** slave → master when its program has loaded. */
export interface SlaveReady {
  pid: number;
  worker: string[];
  context: string[];
}

/** agent → master when a slave process ended. */
export interface SlaveExit {
  code: number | null;
  signal: string | null;
  /** Last lines the slave wrote to stderr: the clue when a slave dies. */
  stderrTail: string[];
  /** Why the agent killed it, when it did (e.g. no heartbeat). */
  reason: string | null;
  /**
   * The worker op it had started last (0 or absent: none, or a context op). Its answers leave in
   * batches, so its oldest unanswered op may be one it had finished: this one is to blame.
   */
  runningOp?: number | null;
}

/** master → slave: `key` reads `hash` for ops issued at epoch >= `epoch`. */
export interface SharedVersion {
  key: string;
  epoch: number;
  hash: string;
  size: number;
}

/** master → slave: versions no queued or running op can read. */
export interface SharedFree {
  versions: Array<{ key: string; epoch: number }>;
  hashes: string[];
}

export type { WireError };
