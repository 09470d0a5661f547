// What the scheduler costs in a simulated run. Time: performance.now() around every call into the
// scheduler (its event methods, and the timers and `soon` actions it set on the clock), minus the
// time spent in the simulated port's callbacks and in the program's settle callbacks, which stand
// for I/O and user code. One thread does everything, so this wall time is the scheduler's CPU time.
// Work: calls across the scheduler's boundary and steps of its loops over hosts and slaves (see
// work-count.ts), which tests compare across cluster sizes instead of times.
export class Meter {
  /** Milliseconds inside the scheduler, port and settle callbacks excluded. */
  schedulerMs = 0;
  /** Milliseconds in the simulated port's callbacks and settle callbacks called by the scheduler. */
  callbackMs = 0;
  schedulerCalls = 0;
  portCalls = 0;
  clockCalls = 0;
  settleCalls = 0;
  /** Steps of the scheduler's loops over its hosts, slaves and pool (when instrumented). */
  iterations = 0;
  private depth = 0;
  private since = 0;
  private pausedAt = 0;

  constructor(private readonly timing: boolean) {}

  /** Entering scheduler code (calls may nest: a timer action calling an event method). */
  enter(): void {
    this.schedulerCalls++;
    if (this.depth++ === 0 && this.timing) this.since = performance.now();
  }

  exit(): void {
    if (--this.depth === 0 && this.timing) this.schedulerMs += performance.now() - this.since;
  }

  /** The scheduler calls out (port, settle): stop its clock until `resume`. */
  pause(): void {
    if (this.depth === 0 || !this.timing) return;
    const now = performance.now();
    this.schedulerMs += now - this.since;
    this.pausedAt = now;
  }

  resume(): void {
    if (this.depth === 0 || !this.timing) return;
    const now = performance.now();
    this.callbackMs += now - this.pausedAt;
    this.since = now;
  }

  /** Work units: calls across the boundary plus loop steps inside. */
  get work(): number {
    return this.schedulerCalls + this.portCalls + this.clockCalls + this.settleCalls + this.iterations;
  }
}
