// The native packages of a program, built for one target, cached by everything they depend on:
// the project's lockfile and its own (file:) packages' sources, which packages, the target, the
// compilers and Node's headers. Editing
// the program itself never rebuilds them; a build with nothing changed finds them at once.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { artefactId, sha256Hex, type ManifestAddon } from "../../core/protocol/manifest.ts";
import { installNativePackages } from "../native/install.ts";
import type { Lockfile } from "../native/lockfile.ts";
import { localPackagesFingerprint } from "./local-packages.ts";
import { loadTest, loadTested } from "../native/load-test.ts";
import { MntError } from "../../core/errors.ts";
import type { Target } from "../targets.ts";

/** Bumped when what is cached changes shape or meaning. */
const CACHE_FORMAT = 1;

export interface NativesRequest {
  /** The folder with the program's package.json (and lockfile, node_modules). */
  projectDir: string;
  packages: string[];
  target: Target;
  /** Where cached builds live (`<cache>/natives/<target>-<key>/`). */
  cacheDir: string;
  force: boolean;
  onLog?: (line: string) => void;
}

export interface Natives {
  /** Holds node_modules/ for the target. */
  dir: string;
  addons: ManifestAddon[];
  key: string;
  cached: boolean;
}

export async function nativesFor(request: NativesRequest): Promise<Natives> {
  const key = nativesKey(request);
  const dir = path.join(request.cacheDir, "natives", `${request.target.name}-${key}`);
  const recordFile = path.join(dir, "addons.json");
  if (!request.force && existsSync(recordFile)) {
    return { dir, addons: JSON.parse(readFileSync(recordFile, "utf8")) as ManifestAddon[], key, cached: true };
  }
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const installed = await installNativePackages({ projectDir: request.projectDir, packages: request.packages, target: request.target, outDir: staging, onLog: request.onLog });
    const tests = await loadTest({ dir: staging, target: request.target, addons: installed.addons, cacheDir: request.cacheDir, onLog: request.onLog });
    for (const [file, result] of tests) {
      if (result.status === "failed") throw new MntError("program", `${request.target.name}: ${file} does not load under the target's Node.js: ${result.error}`, "see the build log above; mnt build --force rebuilds it");
    }
    const addons: ManifestAddon[] = installed.addons.map((addon) => ({
      path: addon.path,
      package: addon.package,
      version: addon.version,
      kind: addon.kind,
      napi: addon.napi,
      nodeAbi: addon.nodeAbi,
      glibc: addon.glibc,
      loadTested: loadTested(tests.get(addon.path) ?? { status: "not-load-tested", reason: "not tried" }),
    }));
    writeFileSync(path.join(staging, "addons.json"), JSON.stringify(addons, null, 1));
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    return { dir, addons, key, cached: false };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

function nativesKey(request: NativesRequest): string {
  const lockfile = ["package-lock.json", "npm-shrinkwrap.json", "package.json"].map((name) => path.join(request.projectDir, name)).find((file) => existsSync(file));
  return artefactId(
    JSON.stringify({
      format: CACHE_FORMAT,
      lock: lockfile ? sha256Hex(readFileSync(lockfile)) : null,
      // The project's own packages by content: the lock names them by path only.
      local: lockfile && !lockfile.endsWith("package.json") ? localFingerprint(lockfile, request.projectDir) : null,
      packages: [...request.packages].sort(),
      target: request.target.name,
      compilers: compilerVersions(request.target),
      // The headers node-gyp builds against (nodedir) are this Node.js's.
      node: process.versions.node,
    }),
  );
}

/** The project's own packages' fingerprint; a lock that does not parse is the install's to report. */
function localFingerprint(lockfile: string, projectDir: string): string | null {
  try {
    return localPackagesFingerprint(JSON.parse(readFileSync(lockfile, "utf8")) as Lockfile, projectDir);
  } catch {
    return null;
  }
}

/** First lines of the target's compilers' `--version`; "missing" for those not installed. */
function compilerVersions(target: Target): string[] {
  const prefix = target.crossTriple ? `${target.crossTriple}-` : "";
  return ["gcc", "g++"].map((tool) => {
    try {
      return execFileSync(`${prefix}${tool}`, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0]!;
    } catch {
      return "missing";
    }
  });
}
