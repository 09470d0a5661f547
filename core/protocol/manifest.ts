// One identity per artefact. Every content hash mnt uses (the agent build in the hello, the
// program bundle's name, a file of a release, the release id) is computed here, by both the
// master and the agent (which imports only core/protocol).
import { createHash } from "node:crypto";

/** Hex digits of a sha256 kept in short ids: 64 bits, plenty for naming a user's own builds. */
const ID_HEX_DIGITS = 16;

/** Full sha256 of some bytes, hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The short id of an artefact (an agent bundle, a program bundle): its sha256 prefix. */
export function artefactId(bytes: Uint8Array | string): string {
  return sha256Hex(bytes).slice(0, ID_HEX_DIGITS);
}

/** One file of a release, as its manifest lists it. */
export interface ManifestFile {
  /** POSIX path relative to the release folder. */
  path: string;
  size: number;
  sha256: string;
  /** Executable by its owner (shipped binaries, scripts). */
  executable?: boolean;
}

/** One native addon of a release and what it needs of the host that loads it. */
export interface ManifestAddon {
  /** POSIX path of the `.node` file relative to the release folder. */
  path: string;
  package: string;
  version: string;
  /** How it was obtained: shipped inside the package, a per-platform package, or built here. */
  kind: "prebuild" | "platform-package" | "source";
  /** N-API version it needs (loads on any Node.js that has it); null for a V8-ABI addon. */
  napi: number | null;
  /** NODE_MODULE_VERSION a V8-ABI addon was built for (loads only there); null for N-API. */
  nodeAbi: string | null;
  /** The newest glibc symbol version it references: the oldest glibc that can load it. */
  glibc: string | null;
  /** Whether it was loaded under the target's Node.js at build time, and if not, why. */
  loadTested: true | string;
}

/** A release: everything one target's hosts need, listed with sizes and hashes. */
export interface Manifest {
  format: 1;
  /** e.g. `linux-arm64`. */
  target: string;
  /** Entry points, relative to the release folder. */
  agent: string;
  program: string;
  /** The agent build id the hello of an agent started from this release carries. */
  agentBuild: string;
  files: ManifestFile[];
  addons: ManifestAddon[];
  /** What the host must offer: the highest N-API level and glibc any addon needs, a Node ABI if one is pinned. */
  requires: { napi: number | null; nodeAbi: string | null; glibc: string | null };
}

/** The manifest as written to `manifest.json`: stable key and file order, so equal releases hash equal. */
export function manifestBytes(manifest: Manifest): Buffer {
  const files = [...manifest.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const addons = [...manifest.addons].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return Buffer.from(`${JSON.stringify({ ...manifest, files, addons }, null, 1)}\n`);
}

/** The release id: the short hash of its manifest, so it names every byte of the release. */
export function releaseId(manifest: Manifest): string {
  return artefactId(manifestBytes(manifest));
}

/** The highest of dotted versions such as glibc's `2.17`, `2.34`; null when none. */
export function highestVersion(versions: Array<string | null>): string | null {
  let best: string | null = null;
  for (const version of versions) {
    if (version === null) continue;
    if (best === null || compareDotted(version, best) > 0) best = version;
  }
  return best;
}

export function compareDotted(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
