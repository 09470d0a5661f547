// What a host offers, asked in one exec over an open SSH connection: OS and machine, the Node.js it
// runs with Node's own platform, arch and N-API version (what choosing a build needs; too old =
// unusable), the C library, cores, free disk in the work folder, rsync.
import { remoteDirWord } from "./agent-over-ssh.ts";
import type { SshSession } from "./connect.ts";

export const MIN_NODE_MAJOR = 18;

/** `node: ship` in the inventory: the deploy brings the official Node.js for the host's arch. */
export const SHIP_NODE = "ship";

export interface HostLibc {
  family: "glibc" | "musl";
  /** e.g. `2.36`; null when the C library does not say. */
  version: string | null;
}

export interface HostFacts {
  /** `uname -s` and `uname -m`, e.g. Linux / aarch64. */
  os: string;
  machine: string;
  /** Node's `process.platform` / `process.arch` (from uname when Node.js does not run there). */
  platform: string;
  arch: string;
  node: string | null;
  /** Node's `process.versions.napi`. */
  napi: number | null;
  libc: HostLibc | null;
  cores: number | null;
  /** Free bytes in the work folder (created if missing); null when it cannot be created. */
  freeBytes: number | null;
  rsync: boolean;
  /** Why the host cannot run agents, or null when it can. */
  problem: string | null;
}

const NODE_FACTS = `JSON.stringify([process.versions.node,process.platform,process.arch,Number(process.versions.napi)||null,require("os").availableParallelism?require("os").availableParallelism():require("os").cpus().length])`;

/** uname's machine → Node's process.arch, for hosts where Node.js does not run (yet). */
const ARCH_OF_MACHINE: Record<string, string> = { x86_64: "x64", amd64: "x64", aarch64: "arm64", arm64: "arm64", armv7l: "arm", armv8l: "arm", riscv64: "riscv64", s390x: "s390x", ppc64le: "ppc64" };

export async function probeHost(session: SshSession, node: string, workDir: string): Promise<HostFacts> {
  const dir = remoteDirWord(workDir);
  const shipped = node === SHIP_NODE;
  const script = [
    `echo "uname=$(uname -sm)"`,
    shipped ? `echo "node=ship"` : `echo "node=$(${node} -e 'console.log(${NODE_FACTS})' 2>&1 | head -n 1)"`,
    `echo "cores=$(nproc 2>/dev/null)"`,
    // glibc answers getconf; musl has no such variable, but its ldd names itself.
    `echo "libc=$( (getconf GNU_LIBC_VERSION || ldd --version) 2>&1 | head -n 2 | tr '\\n' ' ')"`,
    `if mkdir -p ${dir} 2>/dev/null; then echo "df=$(df -Pk ${dir} | tail -n 1)"; else echo "df=cannot create"; fi`,
    `echo "rsync=$(command -v rsync || true)"`,
  ].join("; ");
  const result = await session.run(script);
  const facts = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) facts.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const [os = "?", machine = "?"] = (facts.get("uname") ?? "").split(" ");
  const probed: HostFacts = {
    os,
    machine,
    platform: os.toLowerCase(),
    arch: ARCH_OF_MACHINE[machine] ?? machine,
    node: null,
    napi: null,
    libc: parseLibc(facts.get("libc") ?? ""),
    cores: Number(facts.get("cores")) || null,
    freeBytes: null,
    rsync: (facts.get("rsync") ?? "") !== "",
    problem: null,
  };
  const nodeLine = facts.get("node") ?? "";
  if (!shipped) {
    try {
      const [version, platform, arch, napi, cores] = JSON.parse(nodeLine) as [string, string, string, number | null, number];
      Object.assign(probed, { node: version, platform, arch, napi, cores });
      if (Number(version.split(".")[0]) < MIN_NODE_MAJOR) {
        probed.problem = `Node.js ${version} is too old (${MIN_NODE_MAJOR} or newer needed): install a newer one there, point node: in the hosts file at it, or set node: ship`;
      }
    } catch {
      probed.problem = `\`${node}\` does not run Node.js there (${nodeLine.trim() || "no output"}): install Node.js ${MIN_NODE_MAJOR}+, set node: in the hosts file, or set node: ship to have mnt deploy send one`;
    }
  }
  const df = facts.get("df") ?? "";
  const freeKiB = Number(df.split(/\s+/)[3]);
  probed.freeBytes = Number.isFinite(freeKiB) && df !== "cannot create" ? freeKiB * 1024 : null;
  if (probed.freeBytes === null && !probed.problem) probed.problem = `cannot create the work folder ${workDir}: check workDir in the hosts file`;
  return probed;
}

/** `glibc 2.36` (getconf) or `musl libc (x86_64) Version 1.2.4` (ldd). */
export function parseLibc(text: string): HostLibc | null {
  const glibc = /glibc\s+(\d+\.\d+)/i.exec(text) ?? /GNU libc.*?(\d+\.\d+)/i.exec(text);
  if (glibc) return { family: "glibc", version: glibc[1]! };
  if (/musl/i.test(text)) return { family: "musl", version: /Version\s+(\d+(?:\.\d+)+)/i.exec(text)?.[1] ?? null };
  return null;
}
