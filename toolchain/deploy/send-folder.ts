// Sends a local folder into a folder under the host's work folder, through the host's SSH
// connection or launch command: a host with nothing to build on gets one tar stream; otherwise
// rsync (or, over SSH, SFTP where the host has no rsync) sends only what differs, and files
// unchanged from `linkFrom` (the current release) are linked there instead of sent. A launched
// host without rsync gets the whole folder as a tar stream: it has no SFTP server to talk to.
import type { HostShell } from "../../core/connections/connection.ts";
import type { SshSession } from "../../core/connections/ssh/connect.ts";
import { MntError } from "../../core/errors.ts";
import type { ManifestFile } from "../../core/protocol/manifest.ts";
import type { HostContext } from "./deploy-host.ts";
import { remoteJoin } from "./remote-path.ts";
import { rsyncPush } from "./rsync-over-ssh.ts";
import { sftpPush } from "./sftp-push.ts";
import { tarPush } from "./tar-push.ts";
import { isRsyncMissing } from "./transfer-error.ts";

export interface Sent {
  bytesSent: number;
  filesChanged: number;
  via: "tar" | "rsync" | "sftp" | "none" | "shared";
}

export interface SendRequest {
  localDir: string;
  /** What the folder must hold (size and sha256 each). */
  files: ManifestFile[];
  /** The folder to fill, relative to the work folder. */
  remote: string;
  /** A folder relative to the work folder whose identical files are linked, not sent; null: none. */
  linkFrom: string | null;
  /** Compare by content, not size and time (the folder held a corrupt copy). */
  byContent: boolean;
  /** Nothing of the folder is on the host yet (not even half-sent). */
  fresh: boolean;
  onBytes?: (bytes: number) => void;
}

export async function sendFolder(host: HostContext, request: SendRequest): Promise<Sent> {
  const remoteDir = remoteJoin(host.workDir, request.remote);
  // Both transfers take the older folder relative to the one they fill (rsync's --link-dest is).
  const linkFrom = request.linkFrom === null ? undefined : relativeTo(request.remote, request.linkFrom);
  if (request.fresh && linkFrom === undefined && host.facts.tar) {
    const result = await tarPush(host.session, { localDir: request.localDir, files: request.files, remoteDir, label: host.name });
    return { ...result, via: "tar" };
  }
  if (host.facts.rsync) {
    try {
      const result = await rsyncPush(host.session, { localDir: request.localDir, remoteDir, linkDest: linkFrom, checksum: request.byContent, label: host.name, onBytes: request.onBytes });
      return { bytesSent: result.bytesSent, filesChanged: result.filesChanged, via: "rsync" };
    } catch (error) {
      // rsync gone since the probe, or none on this machine: SFTP needs neither.
      if (!isRsyncMissing(error)) throw error;
    }
  }
  if (!isSshSession(host.session)) {
    if (!host.facts.tar) throw new MntError("infrastructure", `${host.name}: has neither rsync nor tar to receive files with`, "install rsync (or tar) there");
    const result = await tarPush(host.session, { localDir: request.localDir, files: request.files, remoteDir, label: host.name });
    return { ...result, via: "tar" };
  }
  const result = await sftpPush(host.session, { localDir: request.localDir, remoteDir, files: request.files, seedFrom: linkFrom, checksum: request.byContent, label: host.name, onBytes: request.onBytes });
  return { bytesSent: result.bytesSent, filesChanged: result.filesChanged, via: "sftp" };
}

/** An SSH connection (it can speak SFTP), as opposed to a launch command. */
function isSshSession(shell: HostShell): shell is SshSession {
  return "client" in shell;
}

/** `to` as seen from `from`, both under the work folder: `releases/a` from `releases/.incoming-b` is `../../releases/a`. */
function relativeTo(from: string, to: string): string {
  const depth = from.split("/").filter(Boolean).length;
  return `${"../".repeat(depth)}${to}`;
}
