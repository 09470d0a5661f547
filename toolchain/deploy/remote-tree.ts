// What a folder on the host holds, read over SFTP: one READDIR exchange per folder, several
// folders at once. READDIR returns each entry's attributes (lstat), so no file is stat'ed alone.
import path from "node:path";
import type { FileEntryWithStats } from "ssh2";
import { sftpStatus, SFTP_NO_SUCH_FILE, type SftpChannel } from "./sftp-call.ts";

export interface RemoteEntry {
  /** A symlink, device, socket… is "other": never followed, replaced when in the way. */
  kind: "file" | "dir" | "other";
  size: number;
  /** Seconds, as SFTP carries them. */
  mtime: number;
  /** Permission bits only (mode & 0o7777). */
  mode: number;
}

/** Every entry under `root` by its POSIX path relative to root; null when root does not exist. */
export async function listRemoteTree(channel: SftpChannel, root: string, inFlight: number): Promise<Map<string, RemoteEntry> | null> {
  const entries = new Map<string, RemoteEntry>();
  const pending: string[] = [""];
  let running = 0;
  let missingRoot = false;
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const pump = () => {
      if (failed) return;
      if (pending.length === 0 && running === 0) return resolve();
      while (pending.length > 0 && running < inFlight) {
        const relative = pending.shift()!;
        running++;
        channel.call<FileEntryWithStats[]>((callback) => channel.sftp.readdir(relative === "" ? root : path.posix.join(root, relative), callback)).then(
          (list) => {
            running--;
            for (const item of list) {
              if (item.filename === "." || item.filename === "..") continue;
              const key = relative === "" ? item.filename : `${relative}/${item.filename}`;
              const entry = toEntry(item);
              entries.set(key, entry);
              if (entry.kind === "dir") pending.push(key);
            }
            pump();
          },
          (error: unknown) => {
            running--;
            if (relative === "" && sftpStatus(error) === SFTP_NO_SUCH_FILE) {
              missingRoot = true;
              return pump();
            }
            failed = true;
            reject(error);
          },
        );
      }
    };
    pump();
  });
  return missingRoot ? null : entries;
}

function toEntry(item: FileEntryWithStats): RemoteEntry {
  const { attrs } = item;
  const kind = attrs.isFile() ? "file" : attrs.isDirectory() ? "dir" : "other";
  return { kind, size: attrs.size, mtime: attrs.mtime, mode: attrs.mode & 0o7777 };
}
