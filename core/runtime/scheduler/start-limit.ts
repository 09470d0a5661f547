// How long a process on a host may take to start: a slave from its spawn to its SlaveReady (Node.js,
// the agent bundle, the program and its init), an agent from its start to its hello. A host that
// starts Node.js slowly (an emulated CPU, an old ARM board, a loaded machine) is slow, not hung, so
// the user's limit (`startTimeoutMs`, `--start-timeout`) is the limit of a host of ordinary speed,
// raised for a host by what it has shown. The agent enforces a slave's limit (it comes in the Spawn:
// remote-agent/watchdogs.ts); a slave that died still starting past it is a failed start, and a host
// whose slaves keep failing to start is set aside naming the limit (host-health.ts).

/** What a host has shown of how fast it starts processes. */
export interface StartRecord {
  /** How long its agent took from process start to hello (Hello.startupMs); 0 when not known. */
  agentStartupMs: number;
  /** The longest one of its slaves took from spawn to ready so far; 0 before the first. */
  slowestStartMs: number;
}

/**
 * An agent of ordinary speed says hello within this of its process starting (Node.js and the
 * agent bundle loading): 0.1–0.3 s natively on the lab machine's 2 busy cores, 1.2–3 s under qemu.
 * A host slower than this is that many times slower at starting anything, and its limits grow in
 * proportion: the user's limit is that of an ordinary host, and stays as it is on one.
 */
export const ORDINARY_AGENT_STARTUP_MS = 1000;

/** Later slaves of a host (restarts, catch-up slaves) start about as its earlier ones did: room for this many times the slowest. */
export const EARLIER_START_FACTOR = 3;

/** How many times slower than an ordinary host (at least 1) a host whose agent started in `agentStartupMs` starts processes. */
export function startSlowness(agentStartupMs: number): number {
  return Math.max(1, agentStartupMs / ORDINARY_AGENT_STARTUP_MS);
}

/** The start-up limit of a slave about to be spawned on a host that has shown `shown`. */
export function slaveStartLimitMs(baseMs: number, shown: StartRecord): number {
  return Math.ceil(Math.max(baseMs * startSlowness(shown.agentStartupMs), EARLIER_START_FACTOR * shown.slowestStartMs));
}

/**
 * How long to wait for an agent's hello: the user's limit, raised on a reconnection by how slowly
 * the host's agent started last time (`lastStartupMs`; null before its first hello).
 */
export function helloLimitMs(baseMs: number, lastStartupMs: number | null): number {
  return Math.ceil(baseMs * startSlowness(lastStartupMs ?? 0));
}

/** "the start-up limit of 90000 ms (60000 ms, raised for this host's slow start-up)" */
export function describeStartLimit(limitMs: number, baseMs: number): string {
  return limitMs > baseMs ? `the start-up limit of ${limitMs} ms (${baseMs} ms, raised for this host's slow start-up)` : `the start-up limit of ${limitMs} ms`;
}

/** How the user sets the limits a message may tell them to raise (the CLI passes its flags). */
export interface SettingNames {
  startTimeoutMs?: string;
}

/** "--start-timeout" from the CLI; the runtime option's own name otherwise. */
export function startTimeoutSetting(names: SettingNames | undefined): string {
  return names?.startTimeoutMs ?? "the startTimeoutMs option";
}
