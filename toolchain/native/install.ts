// `outDir/node_modules` for one target: the native packages a program imports and their runtime
// closure, at the project's locked versions, with addons for the target. Three ways an addon comes:
// a prebuild the package ships (kept for the target only), a per-platform package chosen by os/cpu
// (fetched for the target, not for this machine), or a build from source with the cross compiler.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import type { Target } from "../targets.ts";
import { buildFromSource } from "./build.ts";
import { addonKind, type AddonKind } from "./classify.ts";
import { readPackageJson } from "./detect.ts";
import { fetchPackages } from "./fetch.ts";
import { asLockfile, packageClosure, type ClosurePackage } from "./lockfile.ts";
import { dropMuslBuilds, pruneBuildOutputs, prunePrebuilds, removeBinLinks } from "./prune.ts";
import { addonRecords, type AddonRecord } from "./records.ts";

export type { AddonRecord } from "./records.ts";
export type { AddonKind } from "./classify.ts";

export interface InstallNativeOptions {
  /** The user's project: its package.json and package-lock.json (node_modules need not be built). */
  projectDir: string;
  /** Top-level package names the program imports that are native (see isNativePackage). */
  packages: readonly string[];
  target: Target;
  /** The release folder: `node_modules/` is made in it (replacing one that is there). */
  outDir: string;
  /** Progress and the tools' output, line by line. */
  onLog?: (line: string) => void;
  /** The environment for npm and the compilers (default: this process's); its PATH decides which compilers are found. */
  env?: NodeJS.ProcessEnv;
  /** Node.js headers for source builds (default: npm's nodedir setting from the environment, else /usr). */
  nodedir?: string;
}

export interface NativeInstall {
  /** One record per `.node` file in `outDir/node_modules`, sorted by path. */
  addons: AddonRecord[];
  /** Every package put in `outDir/node_modules` (the closure), with where it went. */
  packages: { name: string; version: string; installPath: string }[];
  /** The packages built from source (names), and how long that took. */
  builtFromSource: string[];
  buildSeconds: number;
}

export async function installNativePackages(options: InstallNativeOptions): Promise<NativeInstall> {
  const { projectDir, target, outDir } = options;
  const env = options.env ?? process.env;
  const nodedir = options.nodedir ?? env.npm_config_nodedir ?? "/usr";
  const log = options.onLog ?? (() => {});
  const lockFile = path.join(projectDir, "package-lock.json");
  if (!existsSync(lockFile)) throw new MntError("config", `${lockFile}: no such file`, "run npm install in the project: mnt build installs the versions its lock names");
  if (options.packages.length === 0) return { addons: [], packages: [], builtFromSource: [], buildSeconds: 0 };

  const lock = asLockfile(JSON.parse(readFileSync(lockFile, "utf8")), lockFile);
  const closure = packageClosure(lock, options.packages, target, projectDir);
  log(`${target.name}: ${options.packages.join(", ")} need ${closure.length} packages`);

  mkdirSync(outDir, { recursive: true });
  const tree = mkdtempSync(path.join(outDir, `.native-${target.name}-`));
  try {
    await fetchPackages(closure, tree, { cwd: projectDir, env, onLine: log });
    const kinds = classify(closure, tree, target);
    for (const [pkg, kind] of kinds) {
      const dir = path.join(tree, pkg.installPath);
      if (kind !== "platform-package") prunePrebuilds(dir, target);
      // node-gyp-build-optional-packages' platform packages hold glibc and musl builds side by side.
      else if (pkg.isPlatformPackage) dropMuslBuilds(dir);
    }

    const sources = [...kinds].filter(([, kind]) => kind === "source").map(([pkg]) => pkg);
    const names = [...new Set(sources.map((pkg) => pkg.name))];
    let buildSeconds = 0;
    if (sources.length > 0) {
      log(`${target.name}: building ${names.join(", ")} from source`);
      const started = Date.now();
      await buildFromSource(tree, names, target, { env, nodedir, onLine: log });
      buildSeconds = (Date.now() - started) / 1000;
      log(`${target.name}: built ${names.join(", ")} in ${buildSeconds.toFixed(1)} s`);
      for (const pkg of sources) {
        const dir = path.join(tree, pkg.installPath);
        pruneBuildOutputs(dir, readPackageJson(dir).binary?.module_path !== undefined);
      }
    }
    for (const leftover of [".tarballs", "package.json", "node_modules/.package-lock.json"]) {
      rmSync(path.join(tree, leftover), { recursive: true, force: true });
    }
    removeBinLinks(path.join(tree, "node_modules"));
    const addons = addonRecords(tree, { target, closure, kinds, headersAbi: headersAbi(nodedir) });

    const destination = path.join(outDir, "node_modules");
    rmSync(destination, { recursive: true, force: true });
    renameSync(path.join(tree, "node_modules"), destination);
    const packages = closure.map(({ name, version, installPath }) => ({ name, version, installPath }));
    return { addons, packages, builtFromSource: names, buildSeconds };
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** The kind of each native package of the closure (pure-JavaScript ones are left out). */
function classify(closure: readonly ClosurePackage[], tree: string, target: Target): Map<ClosurePackage, AddonKind> {
  const kinds = new Map<ClosurePackage, AddonKind>();
  for (const pkg of closure) {
    const kind = addonKind(pkg, path.join(tree, pkg.installPath), target, closure);
    if (kind) kinds.set(pkg, kind);
  }
  return kinds;
}

/** NODE_MODULE_VERSION in the headers' node_version.h: the ABI a V8 addon built against them has. */
export function headersAbi(nodedir: string): string | null {
  try {
    const text = readFileSync(path.join(nodedir, "include/node/node_version.h"), "utf8");
    return /#define NODE_MODULE_VERSION (\d+)/.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}
