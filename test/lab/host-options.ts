// What a netns lab host can be asked to be (another CPU, no rsync, no Node.js), checked at the
// lab's public boundary, and what each host then looks like to a user logged in over SSH.
import os from "node:os";
import { EMULATIONS, isEmulatedArch, type EmulatedArch } from "./emulation.ts";

export interface NetnsHostOptions {
  /** Emulate this CPU (qemu-user, binfmt_misc private to the host): `uname -m`, `node` and every program of that CPU run as on such a machine, 5–13× slower. */
  arch?: EmulatedArch;
  /** false: no rsync on the host (`command -v rsync` finds nothing). */
  rsync?: false;
  /** false: no Node.js on the host (node, nodejs, npm, npx, corepack): a deploy has to ship one. */
  node?: false;
}

export interface NetnsLabOptions {
  /** Hosts that differ from this machine, by name: `{ h2: { arch: "arm64" }, h3: { rsync: false, node: false } }`. */
  hosts?: Record<string, NetnsHostOptions>;
}

/** What a host is, as a user would find out over SSH. */
export interface HostTraits {
  /** "x64" (this machine's process.arch) on a native host, else the emulated CPU ("arm64", "armv7l"). */
  arch: string;
  /** `uname -m` there: x86_64, aarch64, armv7l. */
  machine: string;
  /** Runs under qemu-user: give it time (node starts in ~1.2 s). */
  emulated: boolean;
  /** `process.version` and `process.arch` of the host's `node`; null when it has none. */
  node: { version: string; arch: string } | null;
  /** Whether `rsync` is on the host's PATH. */
  rsync: boolean;
}

const HOST_OPTION_KEYS = new Set(["arch", "rsync", "node"]);

/** Options per host name (h1…h<count>), or a TypeError/RangeError naming the option at fault. */
export function validateNetnsLabOptions(count: number, options: NetnsLabOptions): Map<string, NetnsHostOptions> {
  const known = Object.keys(options ?? {}).filter((key) => key !== "hosts");
  if (known.length > 0) throw new TypeError(`startNetnsLab options: unknown option ${known.join(", ")} (there is only hosts)`);
  const byName = new Map<string, NetnsHostOptions>();
  for (const [name, host] of Object.entries(options?.hosts ?? {})) {
    const index = /^h(\d+)$/.exec(name)?.[1];
    if (index === undefined || Number(index) < 1 || Number(index) > count) {
      throw new RangeError(`startNetnsLab options: hosts.${name}: a lab of ${count} host(s) has hosts h1 to h${count}`);
    }
    byName.set(name, validateHost(`hosts.${name}`, host));
  }
  return byName;
}

function validateHost(where: string, host: NetnsHostOptions): NetnsHostOptions {
  if (host === null || typeof host !== "object") throw new TypeError(`startNetnsLab options: ${where}: expected an object`);
  for (const key of Object.keys(host)) {
    if (!HOST_OPTION_KEYS.has(key)) throw new TypeError(`startNetnsLab options: ${where}.${key}: unknown option (a host takes arch, rsync and node)`);
  }
  if (host.arch !== undefined && !isEmulatedArch(host.arch)) {
    throw new RangeError(`startNetnsLab options: ${where}.arch: expected one of ${Object.keys(EMULATIONS).join(", ")}, got ${JSON.stringify(host.arch)}`);
  }
  for (const key of ["rsync", "node"] as const) {
    if (host[key] !== undefined && host[key] !== false) throw new TypeError(`startNetnsLab options: ${where}.${key}: expected false (hosts have ${key} unless told otherwise)`);
  }
  return host;
}

/** What a host made with `options` is. A native host's node is this machine's (the one running the tests). */
export function traitsOf(options: NetnsHostOptions = {}): HostTraits {
  const emulation = options.arch ? EMULATIONS[options.arch] : null;
  const node = emulation ? { version: `v${emulation.nodeVersion}`, arch: emulation.nodeArch } : { version: process.version, arch: process.arch };
  return {
    arch: emulation?.arch ?? process.arch,
    machine: emulation?.machine ?? os.machine(),
    emulated: emulation !== null,
    node: options.node === false ? null : node,
    rsync: options.rsync !== false,
  };
}
