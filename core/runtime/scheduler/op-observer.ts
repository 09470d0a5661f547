// What the scheduler tells an observer (the trace and the joblog) about each op, at the moments
// only it knows: issued, answered by a slave, lost with its slave, settled; context ops sent and
// acknowledged per slave. Times come from the scheduler's Clock, so the master's one clock (or the
// simulator's virtual one) stamps everything.
//
// The scheduler holds `OpObserver | null` and calls it as `if (observer !== null) observer.x(…)`:
// with no observer (no --trace, no --joblog) each hook is one null check, and nothing is allocated
// per op. Arguments are the scheduler's own records and numbers for the same reason.
import type { ContextOp, SlaveState, WorkerOp } from "./types.ts";

export interface OpObserver {
  /** A worker op entered the master's queue (`m.worker.x(…)`), or was rejected at issue. */
  opIssued(op: WorkerOp, now: number): void;
  /**
   * A slave answered a run of `op` after `serviceUs` of work. `attempt`: the run it answered
   * (taken before a retry counts another). Called before the op is settled from this answer;
   * `late`: the op was already settled (cancelled, timed out) and the answer is dropped.
   */
  opAnswered(op: WorkerOp, slave: SlaveState, attempt: number, serviceUs: number, failed: boolean, late: boolean, now: number): void;
  /** `slave` was lost while running `op` (its run ends here; the op goes back to the queue or fails). */
  opLost(op: WorkerOp, slave: SlaveState, attempt: number, now: number): void;
  /**
   * The op's promise settled: `error` null for a result. Once per op. No time: it follows its
   * answer (or its cancel, its loss) at once, and reading the clock costs ~0.2 µs on a VM.
   */
  opSettled(op: WorkerOp, error: Error | null): void;
  /** A context op was sent to a slave: with the broadcast (`replay` false), or replayed to a new or catching-up slave. */
  contextSent(entry: ContextOp, slave: SlaveState, replay: boolean, now: number): void;
  /** A slave applied context op `seq` (`error`: it threw there). */
  contextAcked(seq: number, slave: SlaveState, error: Error | null, now: number): void;
}
