// The public surface for user programs: `import { defineProgram } from "marionette-mnt"`.
// Everything a program author touches is typed here; the runtime lives elsewhere.

/** Marks a program object across bundles (the master and each slave load their own copy). */
export const PROGRAM_BRAND: unique symbol = Symbol.for("marionette-mnt.program") as never;

/** Reads shared data as of the moment the master issued the op. */
export interface SharedReader {
  /** Resolves the value set under `key` before this op was issued; fetched once per host, cached. Treat it as read-only. */
  get<T = unknown>(key: string): Promise<T>;
}

export interface SlaveInfo {
  /** Slave id, unique within a run. */
  id: number;
  /** Slot number on its host (0-based): the `N` of `[host:N]` log tags. */
  slot: number;
  host: string;
  arch: string;
  pid: number;
}

/** The third argument of a worker operation. */
export interface OpContext {
  shared: SharedReader;
  /** Aborted when the master cancels the op (AbortSignal option, timeout) or the run stops. */
  signal: AbortSignal;
  slave: SlaveInfo;
  /** How many times this op was started before (0 on the first run). */
  attempt: number;
}

export type WorkerFn<C> = (ctx: C, input: any, op: OpContext) => unknown;
export type ContextFn<C> = (ctx: C, input: any) => unknown;

export interface OpOptions {
  /** Re-run the op this many times when user code throws (default 0: an exception rejects at once). */
  retries?: number;
  /**
   * Reject with a TimeoutError when no result came within this many milliseconds of dispatch (the
   * run's default comes from `mnt exec --op-timeout`). A slave still stuck in the op shortly after
   * (a synchronous loop cannot see `op.signal`) is killed and replaced.
   */
  timeout?: number;
  /** Cancel the op: a queued op never runs, a running one sees `op.signal` abort; the promise rejects. */
  signal?: AbortSignal;
  /**
   * Run the op only on hosts that have all of these tags (`tags:` in hosts.yaml). It waits while no
   * such host is up, and fails at once when no host in the inventory has them.
   */
  tags?: string[];
}

export interface MapOptions extends OpOptions {
  /** Most ops in flight at once (default: 2 × the slaves' pipeline capacity, at least 64). */
  concurrency?: number;
}

export interface MapResult<R> {
  /** Position of the input in the input sequence. */
  index: number;
  value: R;
}

type InputOf<F> = F extends (ctx: any, input: infer I, op: any) => unknown ? I : never;
type ResultOf<F> = F extends (...args: any[]) => infer R ? Awaited<R> : never;
type InputOfCtx<F> = F extends (ctx: any, input: infer I) => unknown ? I : never;

type WorkerCall<F> =
  undefined extends InputOf<F>
    ? (input?: InputOf<F>, options?: OpOptions) => Promise<ResultOf<F>>
    : (input: InputOf<F>, options?: OpOptions) => Promise<ResultOf<F>>;

type ContextCall<F> =
  undefined extends InputOfCtx<F> ? (input?: InputOfCtx<F>) => Promise<void> : (input: InputOfCtx<F>) => Promise<void>;

export interface SharedWriter {
  /** Makes `value` the new immutable version of `key`; ops issued from now on read it. */
  set(key: string, value: unknown): void;
}

/** Counters of the run so far. */
export interface RunStats {
  /** Slaves taking ops now. */
  slaves: number;
  /** Slaves that loaded the program during the run (restarts included). */
  slavesStarted: number;
  workerDone: number;
  workerQueued: number;
  workerRunning: number;
  workerFailed: number;
  workerRetried: number;
  /** Slaves lost during the run (killed, crashed, hung, or with their agent). */
  slavesLost: number;
  /** Runs of worker ops started again because their slave was lost. */
  workerRerun: number;
  /** Worker ops failed because their runs kept killing slaves. */
  workerPoisoned: number;
  contextOps: number;
  sharedVersions: number;
  sharedBytesSent: number;
}

/** The master's handle, the first argument of `main`. */
export interface Master<W extends Record<string, WorkerFn<any>>, X extends Record<string, ContextFn<any>>> {
  worker: { [K in keyof W]: WorkerCall<W[K]> };
  context: { [K in keyof X]: ContextCall<X[K]> };
  shared: SharedWriter;
  /** Runs `name` on every input; yields results in completion order, a bounded number in flight. */
  map<K extends keyof W & string>(name: K, inputs: Iterable<InputOf<W[K]>> | AsyncIterable<InputOf<W[K]>>, options?: MapOptions): AsyncIterable<MapResult<ResultOf<W[K]>>>;
  stats(): RunStats;
}

export interface ProgramDefinition<C, W extends Record<string, WorkerFn<C>>, X extends Record<string, ContextFn<C>>> {
  /** A slave's fresh context. */
  init: () => C | Promise<C>;
  /** Context operations: applied by every slave, in issue order. Keep them deterministic. */
  context?: X;
  /** Worker operations: each call runs on one slave. */
  worker: W;
  /** The master: runs once, on the machine that ran `mnt exec`. Returns the exit code (default 0). */
  main: (m: Master<W, X>, argv: string[]) => Promise<number | void> | number | void;
}

export type Program<C = unknown, W extends Record<string, WorkerFn<C>> = Record<string, WorkerFn<C>>, X extends Record<string, ContextFn<C>> = Record<string, ContextFn<C>>> = ProgramDefinition<C, W, X> & {
  readonly [PROGRAM_BRAND]: true;
};

export function defineProgram<C, W extends Record<string, WorkerFn<C>>, X extends Record<string, ContextFn<C>>>(
  definition: ProgramDefinition<C, W, X>,
): Program<C, W, X> {
  return Object.assign(definition, { [PROGRAM_BRAND]: true as const });
}

export function isProgram(value: unknown): value is Program {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PROGRAM_BRAND] === true;
}
