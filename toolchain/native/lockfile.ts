// The runtime closure of some of a project's packages, read from its package-lock.json (v2/v3
// "packages" map): every package they need at run time, at the version and tree position the lock
// has, for one target (per-platform optional packages of other platforms left out). Pure: the lock
// object in, a list out; nothing is fetched here.
import type { PackageFields } from "./detect.ts";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import type { Target } from "../targets.ts";

export interface LockEntry extends PackageFields {
  resolved?: string;
  integrity?: string;
  link?: boolean;
  /** Shipped inside its parent's tarball (bundleDependencies): nothing to fetch. */
  inBundle?: boolean;
  optional?: boolean;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

export type PackageSource =
  /** From the registry as `spec` (`name@version`); integrity as the lock has it. */
  | { kind: "registry"; spec: string; integrity: string | null }
  /** A folder or tarball of the project (a `file:` dependency, a workspace): packed from there. */
  | { kind: "local"; path: string };

export interface ClosurePackage {
  name: string;
  version: string;
  /** Where it goes in the output tree: `node_modules/bcrypt/node_modules/node-addon-api`. */
  installPath: string;
  source: PackageSource;
  /** Its optional dependencies that are per-platform builds (they declare os/cpu in the lock), for any platform. */
  platformPackages: string[];
  /** It is itself a per-platform build (os/cpu in the lock) chosen for the target. */
  isPlatformPackage: boolean;
  /** It comes inside its parent's tarball (bundleDependencies). */
  inBundle: boolean;
  /** The requested (top-level) packages that need it, in request order: the first one loads it. */
  neededBy: string[];
}

/** Reads a parsed package-lock.json; v1 locks (npm 6) have no "packages" map. */
export function asLockfile(json: unknown, file: string): Lockfile {
  const lock = json as Partial<Lockfile>;
  if (typeof lock !== "object" || lock === null || typeof lock.packages !== "object" || lock.packages === null) {
    throw new MntError("config", `${file}: not a package-lock.json of npm 7 or later (no "packages")`, "run npm install with npm 7 or later to rewrite it");
  }
  return lock as Lockfile;
}

/**
 * The packages `roots` (top-level names, as installed in the project's node_modules) need at run
 * time: dependencies, optional dependencies that exist for the target, and peer dependencies the
 * lock has. `projectDir` turns link targets (`file:` folders) into absolute paths.
 */
export function packageClosure(lock: Lockfile, roots: readonly string[], target: Target, projectDir: string): ClosurePackage[] {
  const found = new Map<string, ClosurePackage>(); // by lock path
  const queue: { lockPath: string; installPath: string; root: string; isPlatformPackage: boolean }[] = [];

  for (const root of roots) {
    const lockPath = `node_modules/${root}`;
    if (!lock.packages[lockPath]) {
      throw new MntError("config", `package-lock.json has no ${lockPath}`, `add ${root} to the project's dependencies and run npm install`);
    }
    queue.push({ lockPath, installPath: lockPath, root, isPlatformPackage: false });
  }

  // Link targets (lock path of the folder → install path of the link), to place their dependencies.
  const linkPlacements: { from: string; to: string }[] = [];
  const placed = (lockPath: string): string => {
    for (const { from, to } of linkPlacements) if (lockPath === from || lockPath.startsWith(`${from}/`)) return to + lockPath.slice(from.length);
    return lockPath;
  };

  while (queue.length > 0) {
    const item = queue.shift()!;
    let entryPath = item.lockPath;
    let entry = lock.packages[entryPath]!;
    if (entry.link) {
      entryPath = entry.resolved!;
      entry = lock.packages[entryPath] ?? {};
      linkPlacements.push({ from: entryPath, to: item.installPath });
    }
    const known = found.get(entryPath);
    if (known) {
      if (!known.neededBy.includes(item.root)) known.neededBy.push(item.root);
      continue;
    }
    const name = entry.name ?? nameFromPath(item.lockPath);
    const version = entry.version;
    if (!version) throw new MntError("config", `package-lock.json: ${item.lockPath} has no version`, "run npm install to repair the lock");
    const source: PackageSource = !entryPath.startsWith("node_modules/")
      ? { kind: "local", path: path.resolve(projectDir, entryPath) } // a link's target folder
      : entry.resolved?.startsWith("file:")
        ? { kind: "local", path: path.resolve(projectDir, entry.resolved.slice("file:".length)) } // a file: tarball
        : { kind: "registry", spec: `${name}@${version}`, integrity: entry.integrity ?? null };
    const platformPackages = Object.keys(entry.optionalDependencies ?? {}).filter((dep) => {
      const depPath = resolveFrom(lock, entryPath, dep);
      const depEntry = depPath ? lock.packages[depPath] : undefined;
      return depEntry !== undefined && (depEntry.os !== undefined || depEntry.cpu !== undefined);
    });
    found.set(entryPath, { name, version, installPath: item.installPath, source, platformPackages, isPlatformPackage: item.isPlatformPackage, inBundle: entry.inBundle === true, neededBy: [item.root] });

    for (const [dep, optional] of edges(entry)) {
      const depPath = resolveFrom(lock, entryPath, dep);
      if (!depPath) {
        if (optional) continue;
        throw new MntError("config", `package-lock.json: ${name}@${version} needs ${dep}, which the lock does not have`, "run npm install to repair the lock");
      }
      const depEntry = lock.packages[depPath]!;
      const platformSpecific = depEntry.os !== undefined || depEntry.cpu !== undefined || depEntry.libc !== undefined;
      if (platformSpecific && !runsOn(depEntry, target)) {
        if (optional) continue;
        throw new MntError("config", `${dep}@${depEntry.version} (needed by ${name}) does not run on ${target.name}: os ${depEntry.os ?? "any"}, cpu ${depEntry.cpu ?? "any"}`, `mnt build cannot make ${name} for ${target.name}`);
      }
      queue.push({ lockPath: depPath, installPath: placed(depPath), root: item.root, isPlatformPackage: platformSpecific });
    }
  }
  return [...found.values()];
}

/** The dependency edges followed at run time, each with whether it may be absent. */
function edges(entry: LockEntry): [string, boolean][] {
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name): [string, boolean] => [name, false]),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name): [string, boolean] => [name, true]),
    // Peers are the user's choice: follow them when the lock installed them, never require them.
    ...Object.keys(entry.peerDependencies ?? {}).map((name): [string, boolean] => [name, true]),
  ];
}

/** Whether a package's os/cpu/libc fields admit the target (npm's rules: a list, or `!name` exclusions). */
export function runsOn(entry: Pick<LockEntry, "os" | "cpu" | "libc">, target: Target): boolean {
  return admits(entry.os, target.platform) && admits(entry.cpu, target.arch) && admits(entry.libc, "glibc");
}

function admits(list: string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const allowed = list.filter((item) => !item.startsWith("!"));
  return allowed.length === 0 || allowed.includes(value);
}

/**
 * The lock path Node.js would load `name` from, required by the package at `fromPath`: its own
 * node_modules, then each enclosing one up to the project's (node's resolution, on lock paths).
 */
export function resolveFrom(lock: Lockfile, fromPath: string, name: string): string | null {
  for (let base: string | null = fromPath; base !== null; base = parentOf(base)) {
    const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
  }
  return null;
}

/** `node_modules/a/node_modules/@s/b` → `node_modules/a`; `node_modules/a` → ""; `packages/x` → `packages`; "" → null. */
function parentOf(lockPath: string): string | null {
  if (lockPath === "") return null;
  const nested = lockPath.lastIndexOf("/node_modules/");
  if (nested >= 0) return lockPath.slice(0, nested);
  if (lockPath.startsWith("node_modules/")) return "";
  const slash = lockPath.lastIndexOf("/");
  return slash >= 0 ? lockPath.slice(0, slash) : "";
}

/** `node_modules/a/node_modules/@s/b` → `@s/b`. */
function nameFromPath(lockPath: string): string {
  const rest = lockPath.slice(lockPath.lastIndexOf("node_modules/") + "node_modules/".length);
  return rest;
}
