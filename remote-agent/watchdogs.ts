// The agent's two watchdogs. A running slave whose lifeline stopped beating is stopped (SIGSTOP),
// frozen or stuck outside JavaScript: the agent kills it (a long synchronous op does not stop the
// beat, which comes from its own thread: lifeline.ts); a slave still starting is judged by its
// start-up limit instead. A master silent for too long is gone (crashed host, dead link): the agent
// leaves, taking its slaves along. The decisions are pure (fed the time); the timers that drive
// them are unref()ed, so they never keep the agent alive.

/** A slave as the lifeline watch sees it. */
export interface WatchedSlave {
  /** When its lifeline last beat (ms). */
  lastBeat: number;
  exited: boolean;
  /** Set once the agent decided to kill it (then it is not judged again). */
  killReason: string | null;
  /** Until it is ready: when it was spawned and its start-up limit (from the Spawn); then null. */
  starting?: StartingSlave | null;
}

/**
 * A slave still starting: Node.js, the agent bundle, the program and its init loading. Its lifeline
 * thread starts only once Node.js and the bundle have loaded, which on a slow host (an emulated CPU,
 * many slaves starting at once on few cores) took more than the heartbeat limit (issue 11), and a
 * beat says only that the process lives, not that its start gets anywhere. So until it is ready it
 * is judged by its start-up limit alone, which the master raises for hosts that start slowly; a
 * slave stuck starting is still caught, at that limit.
 */
export interface StartingSlave {
  /** When the agent spawned it (ms). */
  since: number;
  limitMs: number;
}

export class LifelineWatch {
  private lastCheck: number;

  constructor(
    private readonly timeoutMs: number,
    now: number,
  ) {
    this.lastCheck = now;
  }

  /** The slaves to kill, each with its killReason set: running ones silent past the timeout, starting ones past their limit. */
  check<S extends WatchedSlave>(now: number, slaves: Iterable<S>): S[] {
    // If this agent itself was frozen, its slaves' beats and ready frames wait unread in the pipes: not their fault.
    const agentWasFrozen = now - this.lastCheck > this.timeoutMs / 2;
    this.lastCheck = now;
    const doomed: S[] = [];
    for (const slave of slaves) {
      if (agentWasFrozen) slave.lastBeat = now;
      if (slave.exited || slave.killReason) continue;
      const starting = slave.starting;
      if (starting) {
        const startingMs = now - starting.since;
        if (agentWasFrozen || startingMs <= starting.limitMs) continue;
        slave.killReason = `still starting after ${startingMs} ms, past its start-up limit of ${starting.limitMs} ms; the agent killed it`;
      } else {
        const silentMs = now - slave.lastBeat;
        if (silentMs <= this.timeoutMs) continue;
        slave.killReason = `no heartbeat for ${silentMs} ms (stopped, frozen or hung); the agent killed it`;
      }
      doomed.push(slave);
    }
    return doomed;
  }
}

export class MasterWatch {
  private lastHeard: number;
  private lastCheck = 0;
  private timeoutMs = Infinity;

  /** Made when the agent starts: the master is heard from then on; the timeout comes with Config. */
  constructor(now: number) {
    this.lastHeard = now;
  }

  /** Bytes came from the master. */
  heard(now: number): void {
    this.lastHeard = now;
  }

  /** Starts judging: checks come every so often from now on. */
  start(timeoutMs: number, now: number): void {
    this.timeoutMs = timeoutMs;
    this.lastCheck = now;
  }

  /** How long the master has been silent, when that is over the timeout; else null. */
  check(now: number): number | null {
    // A check that comes late means this agent was frozen: the master's silence is not its own.
    if (now - this.lastCheck > this.timeoutMs / 2) this.lastHeard = now;
    this.lastCheck = now;
    const silentMs = now - this.lastHeard;
    return silentMs > this.timeoutMs ? silentMs : null;
  }
}

/** Runs `tick` every `everyMs` on a timer that does not keep the process alive. */
export function every(everyMs: number, tick: () => void): NodeJS.Timeout {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return timer;
}
