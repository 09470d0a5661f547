// The release on the allocation's nodes: seen through a shared file system at the master's own
// path (an NFS home, a parallel file system), or shipped through srun into a node-local folder.
// Both are one step over all nodes: one srun start, whatever the node count.
import type { Readable } from "node:stream";
import { MntError } from "../../errors.ts";
import { lastLine, runSlurm } from "./run-slurm.ts";
import { srunOnNodes } from "./srun.ts";

/** What one node has: Node.js (at the master's path, else on PATH), its machine, the release's manifest hash. */
export interface NodeCheck {
  node: string;
  /** Path of Node.js there, or null. */
  nodeBinary: string | null;
  /** `uname -m`. */
  machine: string;
  /** sha256 of the manifest at the path asked about, or null when there is none. */
  manifestSha: string | null;
  /** Where the release is there (shipping reports it). */
  releaseDir: string | null;
  /** Whether the step started in the master's working folder (else srun fell back to /tmp). */
  sameCwd: boolean;
}

// $0 manifest path, $1 Node.js path on the master, $2 the master's working folder. A line per
// node: mnt-node NAME NODE MACHINE SHA - CWD (cwd: srun could enter the master's folder there).
const CHECK_SCRIPT = `n="$1"; [ -x "$n" ] || n=$(command -v node) || n=-
s=$(sha256sum < "$0" 2>/dev/null | cut -d' ' -f1); [ -n "$s" ] || s=-
c=-; [ "$(pwd -P)" = "$2" ] && c=cwd
printf 'mnt-node %s %s %s %s - %s\\n' "$SLURMD_NODENAME" "$n" "$(uname -m)" "$s" "$c"`;

// $0 release id, $1 Node.js path on the master, $2 the master's working folder; stdin: the release as a tar stream (every node
// gets all of it: srun's default --input=all). Unpacked beside the final folder and renamed into
// place, so a folder there is whole; a node that has it already reads the stream to its end.
const SHIP_SCRIPT = `set -e; d="/tmp/mnt-$(id -u)/releases/$0"
if [ -f "$d/manifest.json" ]; then cat > /dev/null; else
  mkdir -p "$d.incoming.$$"; tar -x -C "$d.incoming.$$"
  mv -T "$d.incoming.$$" "$d" 2>/dev/null || rm -rf "$d.incoming.$$"
fi
n="$1"; [ -x "$n" ] || n=$(command -v node) || n=-
c=-; [ "$(pwd -P)" = "$2" ] && c=cwd
printf 'mnt-node %s %s %s %s %s %s\\n' "$SLURMD_NODENAME" "$n" "$(uname -m)" "$(sha256sum < "$d/manifest.json" | cut -d' ' -f1)" "$d" "$c"`;

export function parseNodeChecks(stdout: string): Map<string, NodeCheck> {
  const checks = new Map<string, NodeCheck>();
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(" ");
    if (fields[0] !== "mnt-node" || fields.length !== 7) continue;
    const [, node, binary, machine, sha, dir, cwd] = fields as [string, string, string, string, string, string, string];
    checks.set(node, { node, nodeBinary: binary === "-" ? null : binary, machine, manifestSha: sha === "-" ? null : sha, releaseDir: dir === "-" ? null : dir, sameCwd: cwd === "cwd" });
  }
  return checks;
}

export interface NodesStep {
  jobId: string;
  nodes: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Node.js on this machine: used on the nodes too when it is there at the same path. */
  nodeBinary: string;
  /** This process's working folder, resolved (`pwd -P`). */
  cwd: string;
  timeoutMs: number;
}

/** Whether each node sees `manifestFile` (and with which hash). */
export async function checkNodes(step: NodesStep, manifestFile: string): Promise<Map<string, NodeCheck>> {
  return runOnNodes(step, [CHECK_SCRIPT, manifestFile, step.nodeBinary, step.cwd], undefined, "check the nodes");
}

/** Unpacks `tar` (the release folder as a tar stream) on every node of the step. */
export async function shipToNodes(step: NodesStep, releaseId: string, tar: Readable): Promise<Map<string, NodeCheck>> {
  return runOnNodes(step, [SHIP_SCRIPT, releaseId, step.nodeBinary, step.cwd], tar, "send the release to the nodes");
}

async function runOnNodes(step: NodesStep, script: string[], input: Readable | undefined, what: string): Promise<Map<string, NodeCheck>> {
  const argv = srunOnNodes(step.jobId, step.nodes, ["sh", "-c", ...script]);
  const result = await runSlurm(argv, { env: step.env, input, timeoutMs: step.timeoutMs });
  const checks = parseNodeChecks(result.stdout);
  const missing = step.nodes.filter((node) => !checks.has(node));
  if (result.code !== 0 || missing.length > 0) {
    const why = result.timedOut ? `no answer in ${step.timeoutMs / 1000} s` : lastLine(result.stderr) || `exit ${result.code}, no answer from ${missing.join(", ")}`;
    throw new MntError("infrastructure", `--slurm: job ${step.jobId}: could not ${what} (srun on ${step.nodes.join(",")}): ${why}`);
  }
  return checks;
}
