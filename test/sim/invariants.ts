// The invariants a simulated run must keep, and where a broken one is written down. The checks run
// where the facts are (a slave starting an op, a promise settling, the end of the run); this file
// names them all and holds what they found.
//
// 1. exactly-once: every worker and context op settles exactly once, and a resolved worker op
//    carries the value of its own input.
// 2. the right outcome: a rejection is one the program asked for or the world caused: user code
//    threw more times than its retries, its timeout expired, main cancelled it, it killed
//    `poisonKills` slaves (and an op charged that often is never resolved), no host can take its
//    tags, no host left can hold its large values (with its tags); "abandoned" only when the run is
//    stopped by a fatal error that every host dying explains.
// 3. context: a slave applies context ops strictly in log order; a worker op runs on a slave that
//    has applied exactly the context ops main issued before it (and the scheduler stamped it so).
// 4. shared data: when a slave starts an op issued at epoch E, every version that op can read (the
//    newest of each key at E) is still held by the store; once everything settled, only the newest
//    version of each key is left.
// 5. placement: a tagged op runs only on a host with its tags; an op charged with a slave's death
//    runs alone on its slave; a large input never reaches a small host, and a host whose refusal
//    (a shared value it cannot hold) the scheduler took in never gets that op again.
// 6. progress: the run ends, every op settled, within a bound of virtual time (no starvation, no
//    deadlock), with the scheduler idle.
export class Violations {
  readonly list: string[] = [];
  /** Violations beyond this many are counted, not kept. */
  total = 0;

  constructor(private readonly keep = 50) {}

  add(what: string): void {
    this.total++;
    if (this.list.length < this.keep) this.list.push(what);
  }

  get count(): number {
    return this.total;
  }
}

/** What user code of a simulated op throws. */
export class SimUserError extends Error {
  override name = "SimUserError";
  constructor(
    readonly index: number,
    readonly run: number,
  ) {
    super(`op #${index} threw (run ${run})`);
  }
}

/** What a context op that throws on every slave throws. */
export class SimContextError extends Error {
  override name = "SimContextError";
  constructor(readonly seq: number) {
    super(`context op ${seq} threw`);
  }
}

/** A simulated slave's answer to an op it skipped or aborted because it was cancelled there. */
export class SimSlaveAbort extends Error {
  override name = "AbortError";
  constructor(readonly opId: number) {
    super(`op ${opId} was cancelled on the slave`);
  }
}

/** The value a worker op's input must produce. */
export function expectedValue(index: number): number {
  let h = Math.imul(index ^ 0x5bd1e995, 0x27d4eb2d);
  h ^= h >>> 15;
  return h >>> 0;
}
