// Folders for the transfer tests: a release-like tree (nested folders, an executable, a few MB of
// incompressible bytes, many small files), its file list as a manifest has it, and a snapshot of a
// folder (content hash, mode, inode per file) to compare what arrived with what was sent.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ManifestFile } from "../../core/protocol/manifest.ts";

export interface TreeShape {
  /** Small text files spread over nested folders. */
  smallFiles: number;
  /** Sizes of the large random files. */
  largeFiles: number[];
}

export const SMALL_TREE: TreeShape = { smallFiles: 40, largeFiles: [1_500_000, 900_000, 300_000] };

/** Writes a tree under `root` (made if missing); returns its files' relative paths. */
export function makeTree(root: string, shape: TreeShape = SMALL_TREE): string[] {
  const files: string[] = [];
  const write = (relative: string, bytes: Buffer | string, mode = 0o644) => {
    const full = path.join(root, relative);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, bytes);
    chmodSync(full, mode);
    files.push(relative);
  };
  write("bin/tool", "#!/bin/sh\necho tool\n", 0o755);
  write("README.md", "# a release\n");
  shape.largeFiles.forEach((size, i) => write(`lib/data/blob-${i}.bin`, randomBytes(size)));
  for (let i = 0; i < shape.smallFiles; i++) write(`lib/mod-${i % 5}/sub-${i % 3}/file-${i}.js`, `export const n = ${i}; // ${"x".repeat(i * 7)}\n`);
  return files;
}

/** The files under `root` with size and sha256, as a release manifest lists them. */
export function manifestOf(root: string): ManifestFile[] {
  const files: ManifestFile[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const rel = relative ? `${relative}/${name}` : name;
      const stat = lstatSync(path.join(root, rel));
      if (stat.isDirectory()) walk(rel);
      else if (stat.isFile()) files.push({ path: rel, size: stat.size, sha256: sha256(readFileSync(path.join(root, rel))), ...(stat.mode & 0o100 ? { executable: true } : {}) });
    }
  };
  walk("");
  return files;
}

export interface Snapshot {
  /** path → "sha256 mode" for files, "dir" for folders. */
  entries: Record<string, string>;
  inodes: Record<string, number>;
}

export function snapshot(root: string): Snapshot {
  const entries: Record<string, string> = {};
  const inodes: Record<string, number> = {};
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const rel = relative ? `${relative}/${name}` : name;
      const stat = lstatSync(path.join(root, rel));
      if (stat.isDirectory()) {
        entries[rel] = "dir";
        walk(rel);
      } else {
        entries[rel] = `${sha256(readFileSync(path.join(root, rel)))} ${(stat.mode & 0o7777).toString(8)}`;
        inodes[rel] = stat.ino;
      }
    }
  };
  walk("");
  return { entries, inodes };
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
