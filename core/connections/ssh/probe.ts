// What a host offers, asked in one exec over an open SSH connection: OS and arch, the Node.js it
// runs (too old = unusable), cores, free disk in the work folder, rsync.
import { remoteDirWord } from "./agent-over-ssh.ts";
import type { SshSession } from "./connect.ts";

export const MIN_NODE_MAJOR = 18;

export interface HostFacts {
  os: string;
  arch: string;
  node: string | null;
  cores: number | null;
  /** Free bytes in the work folder (created if missing); null when it cannot be created. */
  freeBytes: number | null;
  rsync: boolean;
  /** Why the host cannot run agents, or null when it can. */
  problem: string | null;
}

const NODE_FACTS = `JSON.stringify([process.versions.node,process.arch,require("os").availableParallelism?require("os").availableParallelism():require("os").cpus().length])`;

export async function probeHost(session: SshSession, node: string, workDir: string): Promise<HostFacts> {
  const dir = remoteDirWord(workDir);
  const script = [
    `echo "uname=$(uname -sm)"`,
    `echo "node=$(${node} -e 'console.log(${NODE_FACTS})' 2>&1 | head -n 1)"`,
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
  let nodeVersion: string | null = null;
  let arch = machine;
  let cores: number | null = null;
  let problem: string | null = null;
  const nodeLine = facts.get("node") ?? "";
  try {
    const [version, nodeArch, count] = JSON.parse(nodeLine) as [string, string, number];
    nodeVersion = version;
    arch = nodeArch;
    cores = count;
    if (Number(version.split(".")[0]) < MIN_NODE_MAJOR) problem = `Node.js ${version} is too old (${MIN_NODE_MAJOR} or newer needed): install a newer one there, or point node: in the hosts file at it`;
  } catch {
    problem = `\`${node}\` does not run Node.js there (${nodeLine.trim() || "no output"}): install Node.js ${MIN_NODE_MAJOR}+ or set node: in the hosts file`;
  }
  const df = facts.get("df") ?? "";
  const freeKiB = Number(df.split(/\s+/)[3]);
  const freeBytes = Number.isFinite(freeKiB) && df !== "cannot create" ? freeKiB * 1024 : null;
  if (freeBytes === null && !problem) problem = `cannot create the work folder ${workDir}: check workDir in the hosts file`;
  return { os, arch, node: nodeVersion, cores, freeBytes, rsync: (facts.get("rsync") ?? "") !== "", problem };
}
