// What a host offers, asked in one exec over an open SSH connection: OS and machine, the Node.js it
// runs with Node's own platform, arch and N-API version (what choosing a build needs; too old =
// unusable), the byte order and word size its Node.js sees, the C library, cores, free disk in the
// work folder, rsync.
import { quote } from "shell-quote";
import { remoteDirWord } from "../agent-command.ts";
import type { HostShell } from "../connection.ts";
import { WORD_BITS_32_ARCHES } from "../../protocol/host-room.ts";

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
  /**
   * The host's byte order and word size: what its Node.js says (`os.endianness()`, a 32-bit
   * `process.arch`), or, where Node.js does not run (yet), its C library (`od`, `getconf LONG_BIT`).
   * Null when neither answered.
   */
  byteOrder: "LE" | "BE" | null;
  wordBits: 32 | 64 | null;
  libc: HostLibc | null;
  cores: number | null;
  /** Free bytes in the work folder (created if missing); null when it cannot be created. */
  freeBytes: number | null;
  rsync: boolean;
  /** tar is there (a fresh release goes as one tar stream). */
  tar: boolean;
  /** Why the host cannot run agents, or null when it can. */
  problem: string | null;
}

const NODE_FACTS = `JSON.stringify([process.versions.node,process.platform,process.arch,Number(process.versions.napi)||null,require("os").availableParallelism?require("os").availableParallelism():require("os").cpus().length,require("os").endianness(),${JSON.stringify(WORD_BITS_32_ARCHES)}.includes(process.arch)?32:64])`;

/** uname's machine → Node's process.arch, for hosts where Node.js does not run (yet). */
const ARCH_OF_MACHINE: Record<string, string> = { x86_64: "x64", amd64: "x64", aarch64: "arm64", arm64: "arm64", armv7l: "arm", armv8l: "arm", riscv64: "riscv64", s390x: "s390x", ppc64le: "ppc64" };

/** What an earlier probe learnt from the host's Node.js, and the identity of that binary then. */
export interface KnownNode {
  /** Size, time and inode of the binary `node` names: while they are the same, so is what it says. */
  id: string;
  facts: Pick<HostFacts, "node" | "platform" | "arch" | "napi" | "cores"> & Partial<Pick<HostFacts, "byteOrder" | "wordBits">>;
}

export interface ProbeOptions {
  /** The inventory's `node:` (shell words, or `ship`). */
  node: string;
  workDir: string;
  /** Skip starting Node.js there (~0.1 s, seconds under emulation) when its binary is unchanged. */
  known?: KnownNode | null;
  /** A script to run right after the probe in the same exec (saving a round trip), with its stdin. */
  after?: { script: string; input: string } | null;
}

export interface Probe {
  facts: HostFacts;
  /** The binary's identity now (empty when `node:` is not one command found on PATH). */
  nodeId: string;
  /** What `after` printed (the exec's stderr is all its own: the probe keeps its to itself) and how it ended; null when none was given. */
  after: { code: number | null; stdout: string; stderr: string } | null;
}

/** Separates the probe's lines from those of the script run after it. */
const AFTER_MARK = "--- mnt probe end ---";

export async function probeHost(session: HostShell, options: ProbeOptions): Promise<Probe> {
  const { node, workDir } = options;
  // Facts remembered before byte order and word size were probed are asked again.
  const known = options.known?.facts.byteOrder ? options.known : null;
  const dir = remoteDirWord(workDir);
  const shipped = node === SHIP_NODE;
  const runNode = `echo "node=$(${node} -e 'console.log(${NODE_FACTS})' 2>&1 | head -n 1)"`;
  const nodeLines = shipped
    ? [`echo "node=ship"`]
    : [
        // A single word: the binary it names can be identified; anything else is always run.
        /^[\w./~-]+$/.test(node) ? `nid=$(stat -L -c %s:%Y:%i "$(command -v ${node})" 2>/dev/null); echo "nodeid=$nid"` : `nid=`,
        known ? `if [ -n "$nid" ] && [ "$nid" = ${quote([known.id])} ]; then echo "node=known"; else ${runNode}; fi` : runNode,
      ];
  const script = [
    // The probe reads nothing and says nothing on stderr: both are the after-script's.
    `{`,
    `echo "uname=$(uname -sm)"`,
    ...nodeLines,
    `echo "cores=$(nproc 2>/dev/null)"`,
    // Two bytes 01 00 read as one 16-bit number: 1 on a little-endian host, 256 on a big-endian one.
    `echo "order=$(printf '\\001\\000' | od -An -tu2 2>/dev/null | tr -d ' ')"`,
    `echo "longbit=$(getconf LONG_BIT 2>/dev/null)"`,
    // glibc answers getconf; musl has no such variable, but its ldd names itself.
    `echo "libc=$( (getconf GNU_LIBC_VERSION || ldd --version) 2>&1 | head -n 2 | tr '\\n' ' ')"`,
    `if mkdir -p ${dir} 2>/dev/null; then echo "df=$(df -Pk ${dir} | tail -n 1)"; else echo "df=cannot create"; fi`,
    `echo "rsync=$(command -v rsync || true)"`,
    `echo "tar=$(command -v tar || true)"`,
    `} </dev/null 2>/dev/null`,
    // The script after it runs in a subshell: its cd or exit cannot cut the probe short; its code is printed.
    ...(options.after ? [`echo ${quote([AFTER_MARK])}`, `(\n${options.after.script}\n)`, `echo "after-exit=$?"`] : []),
  ].join("\n");
  const result = await session.run(script, options.after?.input);
  const [probeText, afterText] = splitOnce(result.stdout, `${AFTER_MARK}\n`);
  const facts = new Map<string, string>();
  for (const line of probeText.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) facts.set(line.slice(0, eq), line.slice(eq + 1));
  }
  // Not even uname answered: the script never ran (a launch command that failed, a shell that
  // refused it, a channel that closed). What it printed on stderr says why.
  if (!facts.has("uname")) {
    const said = result.stderr.trim().split("\n", 1)[0];
    const ended = result.code === null ? "no exit status" : `exit ${result.code}`;
    throw new Error(`the probe did not run there (${said ? `${said}; ` : ""}${ended})`);
  }
  const [os = "?", machine = "?"] = (facts.get("uname") ?? "").split(" ");
  const probed: HostFacts = {
    os,
    machine,
    platform: os.toLowerCase(),
    arch: ARCH_OF_MACHINE[machine] ?? machine,
    node: null,
    napi: null,
    byteOrder: ({ "1": "LE", "256": "BE" } as const)[facts.get("order") ?? ""] ?? null,
    wordBits: ({ "32": 32, "64": 64 } as const)[facts.get("longbit") ?? ""] ?? null,
    libc: parseLibc(facts.get("libc") ?? ""),
    cores: Number(facts.get("cores")) || null,
    freeBytes: null,
    rsync: (facts.get("rsync") ?? "") !== "",
    tar: (facts.get("tar") ?? "") !== "",
    problem: null,
  };
  let nodeLine = facts.get("node") ?? "";
  if (nodeLine === "known" && known) {
    const { node: version, platform, arch, napi, cores, byteOrder, wordBits } = known.facts;
    nodeLine = JSON.stringify([version, platform, arch, napi, cores, byteOrder, wordBits]);
  }
  if (!shipped) {
    try {
      const [version, platform, arch, napi, cores, byteOrder, wordBits] = JSON.parse(nodeLine) as [string, string, string, number | null, number, "LE" | "BE" | null, 32 | 64 | null];
      Object.assign(probed, { node: version, platform, arch, napi, cores });
      // The host's Node.js is the one that will hold the values (an emulated CPU's shell tools may be the machine's own).
      if (byteOrder) probed.byteOrder = byteOrder;
      if (wordBits) probed.wordBits = wordBits;
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
  return { facts: probed, nodeId: facts.get("nodeid") ?? "", after: options.after ? { ...afterResult(afterText), stderr: result.stderr } : null };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** The after-script's output without its `after-exit=N` line, and N (null when it never got there). */
function afterResult(text: string): { code: number | null; stdout: string } {
  const match = /(?:^|\n)after-exit=(\d+)\n?$/.exec(text);
  return match ? { code: Number(match[1]), stdout: text.slice(0, match.index) } : { code: null, stdout: text };
}

/** `glibc 2.36` (getconf) or `musl libc (x86_64) Version 1.2.4` (ldd). */
export function parseLibc(text: string): HostLibc | null {
  const glibc = /glibc\s+(\d+\.\d+)/i.exec(text) ?? /GNU libc.*?(\d+\.\d+)/i.exec(text);
  if (glibc) return { family: "glibc", version: glibc[1]! };
  if (/musl/i.test(text)) return { family: "musl", version: /Version\s+(\d+(?:\.\d+)+)/i.exec(text)?.[1] ?? null };
  return null;
}
