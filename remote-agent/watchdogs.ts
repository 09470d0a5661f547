// The agent's two watchdogs. A slave whose lifeline stopped beating is stopped (SIGSTOP), frozen or
// stuck outside JavaScript: the agent kills it (a long synchronous op does not stop the beat, which
// comes from its own thread: lifeline.ts). A master silent for too long is gone (crashed host, dead
// link): the agent leaves, taking its slaves along. The decisions are pure (fed the time); the
// timers that drive them are unref()ed, so they never keep the agent alive.

/** A slave as the lifeline watch sees it. */
export interface WatchedSlave {
  /** When its lifeline last beat (ms). */
  lastBeat: number;
  exited: boolean;
  /** Set once the agent decided to kill it (then it is not judged again). */
  killReason: string | null;
  /** True until its lifeline first beats or it sends its first frame (lastBeat is then its spawn time). */
  starting?: boolean;
}

/**
 * How much longer than the silence timeout a slave may take to beat for the first time. Its
 * lifeline is a thread of its own that starts with the process: on a host starting many slaves at
 * once (a 2-core lab of 50 hosts, an emulated CPU) that took more than 5 s, and a slave killed for
 * it is a spurious loss (issue 10). A slave that has sent a frame (it runs) gets no allowance; one
 * that never beats is still killed, later.
 */
export const START_ALLOWANCE_FACTOR = 6;

export class LifelineWatch {
  private lastCheck: number;

  constructor(
    private readonly timeoutMs: number,
    now: number,
  ) {
    this.lastCheck = now;
  }

  /** The slaves silent for longer than the timeout, each with its killReason set. */
  check<S extends WatchedSlave>(now: number, slaves: Iterable<S>): S[] {
    // If this agent itself was frozen, its slaves' beats wait unread in the pipes: not their fault.
    const agentWasFrozen = now - this.lastCheck > this.timeoutMs / 2;
    this.lastCheck = now;
    const silent: S[] = [];
    for (const slave of slaves) {
      if (agentWasFrozen) slave.lastBeat = now;
      const silentMs = now - slave.lastBeat;
      const allowedMs = slave.starting ? this.timeoutMs * START_ALLOWANCE_FACTOR : this.timeoutMs;
      if (slave.exited || slave.killReason || silentMs <= allowedMs) continue;
      slave.killReason = slave.starting
        ? `no heartbeat in the ${silentMs} ms since it was started (stuck starting); the agent killed it`
        : `no heartbeat for ${silentMs} ms (stopped, frozen or hung); the agent killed it`;
      silent.push(slave);
    }
    return silent;
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
