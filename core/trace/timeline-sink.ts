// The records a run's timeline is made of, as RunTimeline hands them to its sinks (the Chrome
// trace file, the joblog). Times are the master's clock in ms (performance.now()); a sink turns
// them into its own units. Run and settle records are one reused object each: a sink reads them
// during the call and keeps nothing (no allocation per op).

/** How a run of a worker op on a slave ended. */
export type RunOutcome =
  | "ok" // answered with a result
  | "error" // answered with the op's exception (the op failed)
  | "retried" // answered with an exception, and the op has a retry left
  | "lost" // its slave was lost while it ran
  | "late"; // answered after the op was settled (cancelled, timed out): dropped

/** One slave's track: `host:slot` (restarted slaves of one slot share it). */
export interface Track {
  /** Small number, from 0, in the order tracks were first seen. */
  readonly id: number;
  readonly host: string;
  readonly slot: number;
  /** "host:slot" */
  readonly label: string;
}

export interface OpRun {
  track: Track;
  opId: number;
  nameIndex: number;
  attempt: number;
  /** When the run started on the slave, and its length: the slave's own service time. */
  startMs: number;
  serviceUs: number;
  /** From issue to the start of this run (µs): the master's queue, the slave's pipeline, the way there. */
  waitUs: number;
  outcome: RunOutcome;
  /** This run settled the op. */
  final: boolean;
  /** The op's encoded input; `input` its picture once made (null: make it with inputSummary, where the sink runs). */
  payload: Uint8Array;
  input: string | null;
  /** The op's error, one line, when this run settled it with one. */
  error: string | null;
}

export interface SettledOp {
  opId: number;
  nameIndex: number;
  /** The run that settled it, or null (cancelled or rejected before any run ended). */
  run: OpRun | null;
  ok: boolean;
  error: string | null;
  /** As in OpRun. */
  payload: Uint8Array;
  input: string | null;
}

export interface ContextRun {
  track: Track;
  seq: number;
  nameIndex: number;
  /** Replayed to a new or catching-up slave (not the broadcast). */
  replay: boolean;
  startMs: number;
  endMs: number;
  error: string | null;
}

export interface Instant {
  name: string;
  /** On a slave's track, or on a host (agent events), or the master's (neither). */
  track: Track | null;
  host: string | null;
  atMs: number;
  args: Record<string, string | number | boolean>;
}

export interface RunInfo {
  workerNames: readonly string[];
  contextNames: readonly string[];
  /** The master's clock when the run began, and the wall clock (epoch ms) at that moment. */
  startMs: number;
  epochMs: number;
}

export interface TimelineSink {
  begin(info: RunInfo): void;
  opRun(run: OpRun): void;
  opSettled(settled: SettledOp): void;
  contextRun(run: ContextRun): void;
  instant(instant: Instant): void;
  /** Worker ops waiting at the master, and on slaves. */
  counter(atMs: number, queued: number, running: number): void;
  sharedFetch(host: string, hash: string, bytes: number, startMs: number, endMs: number, ok: boolean): void;
  /** The run is over (or failed): write out what is held. Called once. */
  end(): void;
}
