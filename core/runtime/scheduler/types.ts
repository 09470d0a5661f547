// The scheduler's records: issued operations, slaves and hosts. Plain data, shared by the
// scheduler's modules; only the scheduler changes them.
import type { OpOptions } from "../../program/index.ts";
import type { HostRoom } from "../../protocol/host-room.ts";
import type { SlaveDeath } from "../recovery.ts";
import type { StartRecord } from "./start-limit.ts";

/** Where a worker op stands. "waiting": in the queue (or waiting for a slave of the right tags or context version). */
export const enum OpState {
  Waiting = 0,
  Sent = 1,
  Settled = 2,
}

export interface WorkerOp {
  readonly kind: "worker";
  readonly id: number;
  readonly nameIndex: number;
  /** Encoded input, taken at issue time: later mutation by main cannot change what the op sees. */
  readonly payload: Uint8Array;
  /** Shared-data epoch at issue time. */
  readonly epoch: number;
  /** Context ops issued before this op: the slave running it must have applied exactly these. */
  readonly ctxVersion: number;
  /**
   * Host tags the op needs (sorted, deduplicated) and hosts it may not run on, or null for any
   * host. Narrowed when a host refuses the op (a value too large for it: `refusals`).
   */
  tags: TagSet | null;
  /** Encoded input size: the master sends it only to hosts that can hold it. */
  readonly inputBytes: number;
  /** Why hosts refused it ("<value>: <size>, larger than <limit> on <host>"), or null; their names are in tags.notOn. */
  refusals: string[] | null;
  state: OpState;
  /** Runs started so far (user-exception retries and re-runs after a slave loss). */
  attempt: number;
  retriesLeft: number;
  /** Slaves that died while running this op; null until the first (most ops never see one). */
  deaths: SlaveDeath[] | null;
  /** The slave running it or queueing it in its pipeline, while Sent. */
  slave: SlaveState | null;
  /** Its timeout timer while it is on a slave. */
  timer: unknown;
  /** Its timeout fired (as opposed to a cancel through its signal). */
  timedOut: boolean;
  readonly timeoutMs: number | undefined;
  /** Settles the program's promise. */
  readonly settle: OpSettler;
}

/** Settles the promise the program holds for an op. */
export interface OpSettler {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /**
   * Rejects because the run is ending. The program may have left the op unawaited; its rejection
   * is the run ending, not a fault of the program, so it must not surface as an unhandled
   * rejection (which would crash the master mid-stop).
   */
  abandon(error: Error): void;
}

export interface ContextOp {
  readonly kind: "context";
  /** 1-based position in the context log: the context version a slave has once it applied this. */
  readonly seq: number;
  readonly nameIndex: number;
  readonly payload: Uint8Array;
  /** Slaves it was sent to that have not acknowledged it yet. */
  readonly pending: Set<number>;
  /** At least one slave applied it (a context op sent to nobody yet is not done). */
  applied: boolean;
  error: Error | null;
  settled: boolean;
  readonly settle: OpSettler;
}

export type QueueEntry = WorkerOp | ContextOp;

/**
 * Where an op may run: the host tags it requires and the hosts it may not run on (they cannot hold
 * one of its values), with a key that names the pair. Ops, pool lists and waiting lists compare
 * them by identity (TagSets).
 */
export interface TagSet {
  readonly key: string;
  readonly tags: readonly string[];
  /** Hosts that refused the op, or null (no op has been refused: the usual case). */
  readonly notOn: ReadonlySet<string> | null;
}

export type SlaveStatus = "starting" | "ready" | "dead";

export interface SlaveState {
  readonly id: number;
  readonly slot: number;
  readonly host: HostState;
  status: SlaveStatus;
  pid: number;
  /** Ops sent to it and not answered, in the order it runs them (the first one is running). */
  readonly inflight: Map<number, WorkerOp>;
  /** Context ops sent to this slave (its context version once it has run them). */
  ctxSent: number;
  /** Catching up: replaying the log to serve ops re-run at an older context version. */
  catchingUp: boolean;
  /** Extra slave (started for a catch-up): stops once it has caught up and drained. */
  surplus: boolean;
  /** In the pool of slaves that take new ops. */
  inPool: boolean;
  /** Why the master had it killed (a hung op, a retired surplus slave): its end is not its op's fault. */
  killedBecause: string | null;
  /** A suspect op (one that was running when a slave died) runs here alone: no other op is sent meanwhile. */
  isolating: WorkerOp | null;
  /** A cancelled op it is still running: it takes no new work until that op ends (or it is killed). */
  givingUp: WorkerOp | null;
  /** Ops taken back from behind `givingUp` (cancelled there, to run elsewhere), or null. */
  revoked: WorkerOp[] | null;
  /** Most ops it may hold at once (adapts to its ops' service time). */
  depth: number;
  /** Smoothed service time of its ops (µs), 0 before the first result. */
  serviceUs: number;
  /** When it was spawned (Clock ms), and how long it may take to become ready (start-limit.ts). */
  spawnedAt: number;
  startLimitMs: number;
}

/**
 * One host across reconnections of its agent. "connecting": an attempt is under way or scheduled;
 * "up": connected, slaves running; "aside": it failed too often and is out of this run.
 */
export type HostStatus = "connecting" | "up" | "aside";

export interface HostState {
  readonly name: string;
  readonly tags: ReadonlySet<string>;
  /** Slots asked for ("auto": the host's core count, known once its agent is up). */
  readonly wantedSlots: number | "auto";
  status: HostStatus;
  slots: number;
  readonly slaves: Set<SlaveState>;
  /** Failed connections in a row with no op finished since. */
  agentFailures: number;
  /** Slave losses in a row with no op finished since (restart backoff and setting aside). */
  slaveFailures: number;
  /** Slaves in a row that died before they were ready. */
  startFailures: number;
  /** How fast it has shown it starts processes: its slaves' start-up limit grows with it. */
  readonly starts: StartRecord;
  /** Why it was set aside, or why its last connection ended. */
  lastFailure: string | null;
  /** What it can hold, from its agent's hello; null until its agent is up. */
  room: HostRoom | null;
  /** The largest op input it can take (from `room`; Infinity while unknown): one comparison per op sent. */
  inputLimit: number;
}

/** The host may run ops of this set: it has the tags and did not refuse them. */
export function hostHasTags(host: HostState, tags: TagSet | null): boolean {
  if (tags === null) return true;
  if (tags.notOn !== null && tags.notOn.has(host.name)) return false;
  for (const tag of tags.tags) if (!host.tags.has(tag)) return false;
  return true;
}

/** One shared object per distinct set of tags, so ops and queues compare them by identity. */
export class TagSets {
  private readonly byKey = new Map<string, TagSet>();

  of(tags: readonly string[] | undefined): TagSet | null {
    if (!tags || tags.length === 0) return null;
    const sorted = [...new Set(tags)].sort();
    const key = sorted.join(",");
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = { key, tags: sorted, notOn: null }));
    return set;
  }

  /** `set` with `host` refused as well (ops refused by the same hosts share one set, and one pool list). */
  excluding(set: TagSet | null, host: string): TagSet {
    const notOn = [...new Set([...(set?.notOn ?? []), host])].sort();
    const tags = set?.tags ?? [];
    const key = `${tags.join(",")}|not:${notOn.join(",")}`;
    let found = this.byKey.get(key);
    if (!found) this.byKey.set(key, (found = { key, tags, notOn: new Set(notOn) }));
    return found;
  }

  all(): Iterable<TagSet> {
    return this.byKey.values();
  }
}
