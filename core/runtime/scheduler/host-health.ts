// Recovery policy: what a failure means for a host (retry after a backoff, or set it aside) and
// for the op a dying slave was running (charged with the death; poison after enough of them).
// Decisions only: the scheduler carries them out.
import { backoffMs, PoisonOpError, type SlaveDeath } from "../recovery.ts";
import { describeStartLimit, startTimeoutSetting, type SettingNames } from "./start-limit.ts";
import type { HostState, WorkerOp } from "./types.ts";

export interface HealthOptions {
  /** An op whose runs killed this many slaves fails with a PoisonOpError. */
  poisonKills: number;
  /** Slave losses in a row on one host, with no op finished in between, before the host is set aside. */
  maxSlaveFailures: number;
  /** Slaves in a row dying before they were ready, before the host is set aside. */
  maxStartFailures: number;
  /** Failed connections to one agent in a row, with no op finished in between, before the host is set aside. */
  maxAgentFailures: number;
  /** The start-up limit of a host of ordinary speed (start-limit.ts): named when a host is set aside for it. */
  startTimeoutMs: number;
  /** How the user raises it, for that message (the CLI: its flag). */
  settingNames?: SettingNames;
}

export type HostVerdict = { kind: "retry"; delayMs: number } | { kind: "aside"; reason: string };

export class HostHealth {
  constructor(private readonly options: HealthOptions) {}

  /** The host's agent connection failed or ended. `hopeless`: it cannot heal (wrong build, refused key). */
  agentFailed(host: HostState, reason: string, hopeless: boolean): HostVerdict {
    host.agentFailures++;
    if (hopeless) return { kind: "aside", reason };
    if (host.agentFailures >= this.options.maxAgentFailures) {
      const times = host.agentFailures === 1 ? "once" : `${host.agentFailures} times in a row`;
      return { kind: "aside", reason: `its agent failed ${times} (last: ${reason})` };
    }
    return { kind: "retry", delayMs: backoffMs(host.agentFailures, 500, 8000) };
  }

  /**
   * A slave of the host died on its own (not killed by the master). `pastStartLimitMs`: it was
   * still starting past its start-up limit (this one), so it is a start too slow, not a crash.
   */
  slaveDied(host: HostState, reason: string, wasStarting: boolean, pastStartLimitMs: number | null = null): HostVerdict {
    host.slaveFailures++;
    if (wasStarting) host.startFailures++;
    if (host.startFailures >= this.options.maxStartFailures) {
      if (pastStartLimitMs === null) return { kind: "aside", reason: `its slaves die while starting (last: ${reason})` };
      const limit = describeStartLimit(pastStartLimitMs, this.options.startTimeoutMs);
      return { kind: "aside", reason: `its slaves did not start within ${limit}, ${host.startFailures} in a row (last: ${reason}); raise the limit with ${startTimeoutSetting(this.options.settingNames)}` };
    }
    if (host.slaveFailures >= this.options.maxSlaveFailures) {
      return { kind: "aside", reason: `${host.slaveFailures} slaves in a row died with no op finished in between (last: ${reason})` };
    }
    return { kind: "retry", delayMs: backoffMs(host.slaveFailures, 100, 5000) };
  }

  /** A slave became ready. */
  slaveStarted(host: HostState): void {
    host.startFailures = 0;
  }

  /** An op finished on the host: earlier failures there no longer count against it. */
  progress(host: HostState): void {
    host.slaveFailures = 0;
    host.agentFailures = 0;
  }

  /**
   * Charges `op` with the death of the slave that was running it. Returns the error to fail it
   * with once it has killed `poisonKills` slaves, else null (it is re-run, alone on a slave).
   */
  chargeDeath(op: WorkerOp, death: SlaveDeath, name: string, input: () => string): PoisonOpError | null {
    (op.deaths ??= []).push(death);
    if (op.deaths.length < this.options.poisonKills) return null;
    return new PoisonOpError(name, op.id, input(), op.deaths);
  }
}
