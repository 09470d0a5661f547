// An observer of a whole run (the trace and the joblog): the scheduler's op hooks (OpObserver),
// plus what the runtime around it sees: the op names, its events (slaves and agents up and lost),
// shared data set by main and fetched by agents. Times are the master's clock (performance.now()).
import type { OpObserver } from "./scheduler/op-observer.ts";
import type { RuntimeEvent } from "./runtime.ts";

export interface RunObserver extends OpObserver {
  /** The run's op names, indexed as ops' `nameIndex` (called once, before any op). */
  runStarted(workerNames: readonly string[], contextNames: readonly string[], now: number): void;
  /** Every event the runtime emits, as it emits it. */
  event(event: RuntimeEvent, now: number): void;
  /** main set a new version of shared `key`. */
  sharedSet(key: string, now: number): void;
  /** An agent fetched a shared value: its bytes were sent from `startedAt` to `now` (`ok` false: it was freed, or the channel closed). */
  sharedFetched(host: string, hash: string, bytes: number, startedAt: number, ok: boolean, now: number): void;
}
