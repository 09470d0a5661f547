// Shared values as files, in folders that hosts see too (a shared file system: the home or project
// folders of a cluster). A host whose connection is slow for bulk bytes (srun moves 15-35 MB/s and
// stalls on large messages) then reads a value from the file system instead of through its agent's
// connection; the agent checks the sha256 (the file is named by it) and fetches as usual when the
// file is missing or wrong.
//
// Written synchronously when the value is set (through a temporary name, then renamed, so a reader
// never sees part of one): an op issued right after `m.shared.set` finds the file in place. That
// costs the master the write into the page cache (like the encode and hash it already does there),
// and only when some host was given a folder. Freed values are unlinked.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { unlink } from "node:fs/promises";
import path from "node:path";

export class SharedFiles {
  private readonly dirs = new Set<string>();

  /** Writes into `dir` from now on, starting with the values already live. */
  add(dir: string, live: Iterable<[hash: string, bytes: Uint8Array]>): void {
    if (this.dirs.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.dirs.add(dir);
    for (const [hash, bytes] of live) this.writeInto(dir, hash, bytes);
  }

  write(hash: string, bytes: Uint8Array): void {
    for (const dir of this.dirs) this.writeInto(dir, hash, bytes);
  }

  remove(hashes: readonly string[]): void {
    for (const dir of this.dirs) for (const hash of hashes) unlink(path.join(dir, hash)).catch(() => {});
  }

  private writeInto(dir: string, hash: string, bytes: Uint8Array): void {
    const file = path.join(dir, hash);
    const staging = `${file}.${process.pid}.incoming`;
    try {
      writeFileSync(staging, bytes);
      renameSync(staging, file);
    } catch {
      // A full or vanished folder: hosts fetch the value through their connection instead.
      rmSync(staging, { force: true });
    }
  }
}
