// What a deploy reports as it goes, per host: typed events that cli/ renders (listr2 task lists on
// a TTY, `[host] …` lines in CI, one JSON object with --json). The deploy itself never prints.

export type DeployStep = "connect" | "probe" | "node" | "transfer" | "verify" | "switch";

export interface HostDeployed {
  host: string;
  status: "deployed" | "unchanged" | "failed";
  /** e.g. linux-arm64; null when the host could not be reached or probed. */
  target: string | null;
  releaseId: string | null;
  /** File bytes sent (rsync's literal data, SFTP's written bytes): 0 when nothing changed. */
  bytesSent: number;
  filesChanged: number;
  /** How the files went: tar (a fresh host), rsync, sftp, none (nothing to send) or shared (another host of the same folder sent them). */
  via: "tar" | "rsync" | "sftp" | "none" | "shared" | null;
  /** One line naming the host and the fix, when it failed. */
  error: string | null;
  ms: number;
}

export type DeployEvent =
  | { kind: "step"; host: string; step: DeployStep; state: "start" | "done" | "skipped"; detail?: string }
  | { kind: "host.done"; result: HostDeployed };
