// The scheduler's two narrow interfaces to the world: a port to hosts and slaves, and a clock.
// The host supervisor implements them with real agents and timers; the simulator with simulated
// hosts on a virtual clock. Everything the scheduler does outside its own state goes through here.
import type { ContextOp, WorkerOp } from "./types.ts";

export interface SlavePort {
  /** Start (or restart) a host's agent. Answered with Scheduler.hostUp or Scheduler.hostFailed. */
  connect(host: string): void;
  /** Close a host's connection for good (it was set aside); its agent takes its slaves along. */
  disconnect(host: string): void;
  /**
   * Start a slave; its agent kills it if it is not ready within `startLimitMs` (start-limit.ts).
   * Answered with Scheduler.slaveReady, or slaveExited if it dies first.
   */
  spawn(host: string, slave: number, slot: number, startLimitMs: number): void;
  sendOp(host: string, slave: number, op: WorkerOp): void;
  sendContext(host: string, slave: number, entry: ContextOp): void;
  /** Tell a slave to skip (queued) or abort (running) an op. */
  cancel(host: string, slave: number, opId: number): void;
  /** Have the agent kill a slave. Answered with slaveExited. */
  kill(host: string, slave: number): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /**
   * Runs `action` after `ms`; the handle cancels it. `keepAlive`: the process waits for it (a
   * pending reconnection may be all a run has left to wait for); op timeouts do not.
   */
  setTimer(ms: number, action: () => void, keepAlive?: boolean): unknown;
  clearTimer(handle: unknown): void;
  /** Runs `action` once the current event has been handled (a microtask for real I/O). */
  soon(action: () => void): void;
}

/** The real clock: timers and microtasks. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, action, keepAlive = false) {
    const timer = setTimeout(action, ms);
    if (!keepAlive) timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  soon: queueMicrotask,
};
