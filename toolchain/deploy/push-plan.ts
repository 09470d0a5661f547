// What an SFTP push must do to make a remote folder hold exactly the local files: a pure function
// of the two listings, so every case (a file where a folder was, a folder gone, a mode changed) is
// tested without a host.
//
// "Unchanged" is rsync's quick check: same size, same modification time (to the second, as SFTP
// carries it) and same permission bits; or, when the host's sha256 of the file was checked, same
// content and permission bits. Files are written under a temporary name and renamed, never
// rewritten in place, so a file hard-linked from an older release is replaced, not changed, and a
// mode that differs is fixed by sending the file again for the same reason.
import path from "node:path";
import type { RemoteEntry } from "./remote-tree.ts";

export interface LocalFile {
  /** POSIX path relative to the folder. */
  path: string;
  size: number;
  /** Whole seconds. */
  mtime: number;
  /** Permission bits (mode & 0o7777). */
  mode: number;
}

export interface PushPlan {
  /** Entries to remove, children before their folder. */
  remove: Array<{ path: string; kind: RemoteEntry["kind"] }>;
  /** Folders to make, parents first. */
  mkdir: string[];
  /** Files to send. */
  send: LocalFile[];
}

/**
 * @param remote what the folder holds now (empty when it is new)
 * @param sameContent paths whose content the host has checked equal (sha256), when it was asked
 */
export function planPush(local: readonly LocalFile[], remote: ReadonlyMap<string, RemoteEntry>, sameContent?: ReadonlySet<string>): PushPlan {
  const files = new Map(local.map((file) => [file.path, file]));
  const dirs = new Set<string>();
  for (const file of local) {
    for (let dir = path.posix.dirname(file.path); dir !== "."; dir = path.posix.dirname(dir)) dirs.add(dir);
  }

  const remove: PushPlan["remove"] = [];
  for (const [name, entry] of remote) {
    const wanted = entry.kind === "dir" ? dirs.has(name) : entry.kind === "file" && files.has(name);
    if (!wanted) remove.push({ path: name, kind: entry.kind });
  }
  // Deepest first: a folder is empty by the time it is removed.
  remove.sort((a, b) => depth(b.path) - depth(a.path));
  const removed = new Set(remove.map((entry) => entry.path));

  const mkdir = [...dirs].filter((dir) => remote.get(dir)?.kind !== "dir" || removed.has(dir)).sort((a, b) => depth(a) - depth(b));
  const send = local.filter((file) => {
    const there = remote.get(file.path);
    if (!there || there.kind !== "file" || removed.has(file.path)) return true;
    if (there.mode !== file.mode) return true;
    if (sameContent) return !sameContent.has(file.path);
    return there.size !== file.size || there.mtime !== file.mtime;
  });
  return { remove, mkdir, send };
}

function depth(relative: string): number {
  return relative.split("/").length;
}
