// A local folder made the contents of a remote folder by the real rsync (delta transfer, `-a
// --delete`), through mnt's own SSH session (session-shell.ts): the host key policy, user, keys,
// agent and jump hosts are mnt's, and no second login happens.
import path from "node:path";
import type { HostShell } from "../../core/connections/connection.ts";
import { homeRelative } from "./remote-path.ts";
import { parseRsyncStats, rsyncReason } from "./rsync-output.ts";
import { runWithSessionShell, SESSION_HOST, sessionShellCommand } from "./session-shell.ts";
import { TransferError, firstLine, fixForReason } from "./transfer-error.ts";

export interface RsyncPushOptions {
  /** The folder on this machine; its contents (not the folder itself) are sent. */
  localDir: string;
  /**
   * The folder on the host: absolute, or relative to the login's home (`~/x` or `x`). rsync makes
   * it when missing, but not its parent. Whatever it holds that `localDir` does not is deleted.
   */
  remoteDir: string;
  /**
   * rsync's `--link-dest`: a folder on the host, relative to `remoteDir` (e.g. `../<previous>`) or
   * absolute. Files identical there (size, time, mode, owner) are hard-linked from it, not sent.
   */
  linkDest?: string;
  /** Compare files by content (rsync `--checksum`) instead of size and time: for a copy that may be corrupt. */
  checksum?: boolean;
  /** How to start rsync on the host, e.g. `sudo rsync` (shell words, used as written); default `rsync`. */
  remoteRsync?: string;
  /** rsync on this machine; default `rsync` from PATH. */
  localRsync?: string;
  /** The host's name in messages. */
  label?: string;
  /** Told the bytes sent over the connection, as they go (protocol included). */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface TransferResult {
  /** File content bytes sent (after delta transfer and hard links; protocol not counted). */
  bytesSent: number;
  /** Files whose content was sent (new or changed). */
  filesChanged: number;
  /** Files removed from the remote folder because the local one no longer has them. */
  filesDeleted: number;
  /** Everything sent over the connection, protocol and file lists included. */
  wireBytes: number;
}

/** Exit status of a shell that did not find the command: the host has no rsync. */
const COMMAND_NOT_FOUND = 127;

export async function rsyncPush(session: HostShell, options: RsyncPushOptions): Promise<TransferResult> {
  const label = options.label ?? "the host";
  const where = `${label}: rsync to ${options.remoteDir}`;
  const args = rsyncArgs(options);
  let run;
  try {
    run = await runWithSessionShell(session, options.localRsync ?? "rsync", args, { env: rsyncEnv(), onSent: options.onBytes, signal: options.signal });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new TransferError("rsync-missing-here", `${where}: there is no rsync on this machine`, "install rsync here, or let mnt use SFTP", { cause: error });
    }
    throw error;
  }
  const { remote } = run;
  if (remote && remote.code === COMMAND_NOT_FOUND) {
    const said = firstLine(remote.stderr);
    throw new TransferError("rsync-missing-there", `${where}: the host has no rsync${said ? ` (${said})` : ""}`, "install rsync there, or let mnt use SFTP");
  }
  if (options.signal?.aborted) throw new TransferError("failed", `${where}: aborted`, undefined, { cause: options.signal.reason });
  if (run.code !== 0) {
    // The host's rsync complains on its stderr when it fails before the protocol starts (a folder
    // it cannot make); ssh would have copied that into the local rsync's stderr, after its own lines.
    const reason = rsyncReason(`${run.stderr}\n${remote?.stderr ?? ""}`) ?? remote?.error ?? null;
    const how = run.code === null ? `killed by ${run.signal}` : `rsync exit ${run.code}`;
    throw new TransferError("failed", `${where} failed: ${reason ?? "no message"} (${how})`, fixForReason(reason));
  }
  const stats = parseRsyncStats(run.stdout);
  if (!stats) throw new TransferError("failed", `${where}: rsync succeeded but printed no --stats (is ${options.localRsync ?? "rsync"} rsync 3?)`);
  return { bytesSent: stats.literalBytes, filesChanged: stats.filesTransferred, filesDeleted: stats.filesDeleted, wireBytes: stats.wireBytes };
}

/** The local rsync's arguments (exported for tests and for `--dry-run` style reports). */
export function rsyncArgs(options: Pick<RsyncPushOptions, "localDir" | "remoteDir" | "linkDest" | "checksum" | "remoteRsync">): string[] {
  return [
    "--archive",
    "--delete",
    "--stats",
    "--no-human-readable",
    ...(options.checksum ? ["--checksum"] : []),
    ...(options.linkDest ? [`--link-dest=${options.linkDest}`] : []),
    ...(options.remoteRsync ? [`--rsync-path=${options.remoteRsync}`] : []),
    "--rsh",
    sessionShellCommand(),
    "--",
    // Trailing slashes: the contents of one folder become the contents of the other.
    `${path.resolve(options.localDir)}/`,
    `${SESSION_HOST}:${homeRelative(options.remoteDir).replace(/\/*$/, "/")}`,
  ];
}

/**
 * rsync's environment without the RSYNC_* variables that change what it does (RSYNC_OLD_ARGS
 * would stop it quoting the remote paths, RSYNC_RSH is replaced anyway); C locale for parsing.
 */
function rsyncEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("RSYNC_")) env[key] = value;
  return { ...env, LC_ALL: "C" };
}
