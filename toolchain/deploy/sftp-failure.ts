// Why an SFTP request failed, when the server only said "Failure": OpenSSH's sftp-server maps
// EROFS and ENOSPC (and most errnos) to that one status with no text. The file system is asked
// instead (statvfs@openssh.com: read-only flag, free space), then, on servers without it, the
// shell (a one-byte write in the folder, whose error message names the cause).
import path from "node:path";
import type { SshSession } from "../../core/connections/ssh/connect.ts";
import { writeProbeScript } from "./push-scripts.ts";
import type { SftpChannel } from "./sftp-call.ts";

/** statvfs f_flag bit of a read-only mount (ST_RDONLY). */
const ST_RDONLY = 1;

/**
 * A reason such as "Read-only file system" or "No space left on device (12 KiB free, 2.0 MiB
 * needed)", or null when neither the file system nor the shell can tell.
 * @param remotePath the path the request was about (its folder is examined)
 * @param needBytes what the request needed to write (0 when it wrote nothing)
 */
export async function explainFailure(channel: SftpChannel, session: SshSession, remotePath: string, needBytes: number): Promise<string | null> {
  const dir = path.posix.dirname(remotePath);
  const fs = await channel.call<Record<string, number | bigint>>((callback) => channel.sftp.ext_openssh_statvfs(dir, callback)).catch(() => null);
  if (fs) {
    const free = Number(fs.f_bavail) * Number(fs.f_frsize);
    if (Number(fs.f_flag) & ST_RDONLY) return "Read-only file system";
    if (free < needBytes || free === 0) return `No space left on device (${free} bytes free, ${needBytes} needed)`;
    if (Number(fs.f_favail) === 0) return "No space left on device (no free inodes)";
  }
  // An exec starts in the login's home, as SFTP does: the same relative path names the same folder.
  const probe = await session.run(writeProbeScript(dir)).catch(() => null);
  return probe && probe.code !== 0 ? probe.stderr.trim().split("\n")[0]?.trim() || null : null;
}
