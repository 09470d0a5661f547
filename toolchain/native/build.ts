// Builds addons from source for a target with node-gyp and the target's cross compiler, by running
// each package's own install script through `npm rebuild` (so node-pre-gyp, prebuild-install and
// node-gyp-build packages put the addon where their loader looks for it).
import { availableParallelism } from "node:os";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import { aptGetLine, checkTarget, packagesFor } from "../doctor.ts";
import type { Target } from "../targets.ts";
import { lastLines, run } from "./run.ts";

export interface BuildOptions {
  /** The environment the build starts from (PATH decides which compilers are found). */
  env?: NodeJS.ProcessEnv;
  /** Node.js headers (include/node): node-gyp would download them otherwise, which cannot work offline. */
  nodedir: string;
  onLine?: (line: string) => void;
}

/**
 * The environment that makes node-gyp (and the tools that call it) build for `target`:
 * - CC, CXX, LINK and AR name the cross tools: `--arch=arm64` alone silently builds for this
 *   machine and exits 0, and CC alone fails to link;
 * - npm_config_arch is node-gyp's (and node-gyp-build's) arch, npm_config_target_arch node-pre-gyp's;
 * - npm_config_build_from_source: prebuild-install and node-pre-gyp would try a download first.
 */
export function crossBuildEnv(target: Target, base: NodeJS.ProcessEnv, nodedir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    npm_config_arch: target.gypArch,
    npm_config_target_arch: target.gypArch,
    npm_config_platform: target.platform,
    npm_config_build_from_source: "true",
    npm_config_nodedir: nodedir,
    npm_config_jobs: String(availableParallelism()),
  };
  if (target.crossTriple) {
    const tool = (name: string) => `${target.crossTriple}-${name}`;
    Object.assign(env, { CC: tool("gcc"), CXX: tool("g++"), LINK: tool("g++"), AR: tool("ar") });
  }
  return env;
}

/** Throws, with the apt-get line, when the compilers or tools to build for `target` are missing. */
export function requireBuildTools(target: Target, packages: readonly string[], options: Pick<BuildOptions, "env" | "nodedir">): void {
  const checks = checkTarget(target, { path: (options.env ?? process.env).PATH, nodedir: options.nodedir }).build;
  const missing = checks.filter((check) => check.found === null);
  if (missing.length === 0) return;
  throw new MntError(
    "infrastructure",
    `building ${packages.join(", ")} from source for ${target.name} needs ${missing.map((check) => check.name).join(", ")}, not found`,
    aptGetLine(packagesFor(missing))!,
  );
}

/**
 * Runs the install scripts of `packages` (names) in `treeDir`, a folder with node_modules laid out,
 * for `target`. Throws with the build's last lines when it fails.
 */
export async function buildFromSource(treeDir: string, packages: readonly string[], target: Target, options: BuildOptions): Promise<void> {
  requireBuildTools(target, packages, options);
  const env = crossBuildEnv(target, options.env ?? process.env, options.nodedir);
  // npm rebuild wants a project around the tree; this one is only the tree's root.
  writeFileSync(path.join(treeDir, "package.json"), `${JSON.stringify({ name: "mnt-native-build", private: true }, null, 2)}\n`);
  const npm = (args: string[]) => run("npm", [...args, "--loglevel=error"], { cwd: treeDir, env, onLine: options.onLine });

  // First link every package's bins without running anything: install scripts call node-pre-gyp,
  // node-gyp-build, cross-env… by name.
  const linked = await npm(["rebuild", "--ignore-scripts"]);
  if (linked.code !== 0) throw new MntError("infrastructure", `npm rebuild --ignore-scripts failed in ${treeDir}: ${lastLines(linked.tail)}`);
  const built = await npm(["rebuild", ...packages, "--ignore-scripts=false", "--foreground-scripts"]);
  if (built.code !== 0) {
    throw new MntError(
      "infrastructure",
      `building ${packages.join(", ")} for ${target.name} failed: ${lastLines(built.tail, 6)}`,
      "see the build output above; mnt doctor lists the compilers each target needs",
    );
  }
}
