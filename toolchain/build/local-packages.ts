// What the project's own packages (`file:` folders and tarballs, workspaces: `link` entries of the
// lockfile) hold right now. The lockfile names them by path only, so a native cache keyed by the
// lock alone would keep serving an addon built from sources the user has since edited.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { sha256Hex } from "../../core/protocol/manifest.ts";
import type { Lockfile } from "../native/lockfile.ts";

/** Folders inside a package that are outputs or other packages, not its sources. */
const NOT_SOURCES = new Set(["node_modules", "build", ".git"]);

/** Local package paths (absolute) named by the lock: link targets and `file:` tarballs. */
export function localPackagePaths(lock: Lockfile, projectDir: string): string[] {
  const found = new Set<string>();
  for (const [lockPath, entry] of Object.entries(lock.packages ?? {})) {
    if (entry.link && entry.resolved) found.add(path.resolve(projectDir, entry.resolved));
    else if (entry.resolved?.startsWith("file:")) found.add(path.resolve(projectDir, entry.resolved.slice("file:".length)));
    else if (lockPath !== "" && !lockPath.includes("node_modules/")) found.add(path.resolve(projectDir, lockPath)); // a link's target folder
  }
  return [...found].sort();
}

/** One sha256 over every source file (path and bytes) of those packages; a missing one counts as missing. */
export function localPackagesFingerprint(lock: Lockfile, projectDir: string): string | null {
  const paths = localPackagePaths(lock, projectDir);
  if (paths.length === 0) return null;
  const parts: string[] = [];
  for (const root of paths) {
    const files = sourceFiles(root);
    if (files.length === 0) parts.push(`${path.relative(projectDir, root)}\0missing`);
    for (const file of files) parts.push(`${path.relative(projectDir, file)}\0${sha256Hex(readFileSync(file))}`);
  }
  return sha256Hex(parts.join("\n"));
}

/** The files of a folder (or the tarball itself), sorted, without outputs and nested packages. */
function sourceFiles(root: string): string[] {
  let stat;
  try {
    stat = statSync(root);
  } catch {
    return [];
  }
  if (stat.isFile()) return [root];
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!NOT_SOURCES.has(entry.name)) walk(full);
      } else if (entry.isFile()) files.push(full);
    }
  };
  walk(root);
  return files;
}
