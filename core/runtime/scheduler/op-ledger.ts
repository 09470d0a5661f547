// Settling worker ops exactly once: results, errors, retries after a user exception, cancels and
// timeouts. Counts what is outstanding, so "idle" is known without a scan.
import { TimeoutError } from "../../errors.ts";
import type { OpObserver } from "./op-observer.ts";
import type { Clock } from "./ports.ts";
import { OpState, type WorkerOp } from "./types.ts";

export interface LedgerCounters {
  workerDone: number;
  workerFailed: number;
  workerRetried: number;
}

export class OpLedger {
  /** Worker ops issued and not settled. */
  outstanding = 0;
  /** Of those, the ops on a slave (sent, not taken back): the rest wait at the master. */
  onSlaves = 0;
  readonly counters: LedgerCounters = { workerDone: 0, workerFailed: 0, workerRetried: 0 };

  constructor(
    private readonly clock: Clock,
    /** Called once per op when it settles (shared-data epochs are released there). */
    private readonly onSettled: (op: WorkerOp) => void,
    /** Fired when an op's timeout expires: the scheduler cancels it. */
    private readonly onTimeout: (op: WorkerOp, error: TimeoutError) => void,
    private readonly opName: (op: WorkerOp) => string,
    /** Told of each op's settling (--trace, --joblog); null costs one check. */
    private readonly observer: OpObserver | null = null,
  ) {}

  issued(): void {
    this.outstanding++;
  }

  resolve(op: WorkerOp, value: unknown): void {
    if (!this.close(op)) return;
    this.counters.workerDone++;
    if (this.observer !== null) this.observer.opSettled(op, null);
    op.settle.resolve(value);
  }

  reject(op: WorkerOp, error: Error): void {
    if (!this.close(op)) return;
    this.counters.workerFailed++;
    if (this.observer !== null) this.observer.opSettled(op, error);
    op.settle.reject(error);
  }

  /** Rejects an op because the run is ending (see OpSettler.abandon). */
  abandon(op: WorkerOp, error: Error): void {
    if (!this.close(op)) return;
    this.counters.workerFailed++;
    if (this.observer !== null) this.observer.opSettled(op, error);
    op.settle.abandon(error);
  }

  /** User code threw: true when the op has a retry left (it is then to be run again). */
  takeRetry(op: WorkerOp): boolean {
    if (op.retriesLeft <= 0) return false;
    op.retriesLeft--;
    op.attempt++;
    this.counters.workerRetried++;
    return true;
  }

  /** The op goes to a slave: its timeout (if any) starts, once per run on a slave. */
  sent(op: WorkerOp): void {
    if (op.state !== OpState.Sent) this.onSlaves++;
    op.state = OpState.Sent;
    const timeout = op.timeoutMs;
    if (timeout === undefined || op.timer !== null) return;
    op.timer = this.clock.setTimer(timeout, () => {
      op.timer = null;
      op.timedOut = true;
      this.onTimeout(op, new TimeoutError(`${this.opName(op)} (op ${op.id}) got no result within ${timeout} ms`));
    });
  }

  /** The op is no longer on a slave: its timeout starts again when it is sent again. */
  unassigned(op: WorkerOp): void {
    op.slave = null;
    if (op.state === OpState.Sent) {
      op.state = OpState.Waiting;
      this.onSlaves--;
    }
    this.stopTimer(op);
  }

  private close(op: WorkerOp): boolean {
    if (op.state === OpState.Settled) return false;
    if (op.state === OpState.Sent) this.onSlaves--;
    op.state = OpState.Settled;
    this.stopTimer(op);
    this.outstanding--;
    this.onSettled(op);
    return true;
  }

  private stopTimer(op: WorkerOp): void {
    if (op.timer !== null) this.clock.clearTimer(op.timer);
    op.timer = null;
  }
}
