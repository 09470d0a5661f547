// Lays out the closure as pristine package contents: every package is taken from its registry
// tarball (or packed from its project folder) at the locked version, never copied from the
// project's node_modules, where install scripts may have left builds for this machine (a
// build/Release of the wrong architecture is what node-gyp-build loads first).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import type { ClosurePackage } from "./lockfile.ts";
import { lastLines, run } from "./run.ts";

interface PackResult {
  id: string;
  name: string;
  version: string;
  filename: string;
  integrity: string;
}

export interface FetchOptions {
  /** Where npm runs: the user's project, so that its .npmrc (registry, scopes, auth) applies. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
}

/** Puts each package's files at `treeDir/<installPath>` (bundled ones come with their parent). */
export async function fetchPackages(closure: readonly ClosurePackage[], treeDir: string, options: FetchOptions = {}): Promise<void> {
  const packages = closure.filter((pkg) => !pkg.inBundle);
  const tarballs = path.join(treeDir, ".tarballs");
  mkdirSync(tarballs, { recursive: true });
  const specs = [...new Set(packages.map((pkg) => (pkg.source.kind === "registry" ? pkg.source.spec : pkg.source.path)))];
  // One npm for all: it fetches in parallel and from its cache after the first time.
  const packed = await run("npm", ["pack", "--json", "--ignore-scripts", "--loglevel=error", "--pack-destination", tarballs, ...specs], {
    cwd: options.cwd ?? treeDir,
    env: options.env,
    onLine: options.onLine,
    echoStdout: false,
  });
  if (packed.code !== 0) {
    throw new MntError("infrastructure", `npm pack of ${specs.length} packages failed: ${lastLines(packed.tail)}`, "check that the npm registry is reachable");
  }
  const results = JSON.parse(packed.stdout) as PackResult[];
  const byId = new Map(results.map((result) => [`${result.name}@${result.version}`, result]));

  for (const pkg of packages) {
    const result = byId.get(`${pkg.name}@${pkg.version}`);
    if (!result) throw new MntError("infrastructure", `npm pack gave no tarball for ${pkg.name}@${pkg.version}`);
    if (pkg.source.kind === "registry" && pkg.source.integrity && pkg.source.integrity !== result.integrity) {
      throw new MntError(
        "config",
        `${pkg.name}@${pkg.version}: the registry's tarball is not the one package-lock.json names (integrity ${result.integrity}, lock ${pkg.source.integrity})`,
        "run npm install to refresh the lock, or check the registry",
      );
    }
    const dir = path.join(treeDir, pkg.installPath);
    mkdirSync(dir, { recursive: true });
    // Tarballs hold one top folder (usually package/), whatever its name.
    const untar = await run("tar", ["-xzf", path.join(tarballs, result.filename), "-C", dir, "--strip-components=1", "--no-same-owner"]);
    if (untar.code !== 0) throw new MntError("infrastructure", `cannot unpack ${result.filename}: ${lastLines(untar.tail)}`);
  }
}
