// Finding and removing everything the Slurm lab made: its daemons (by the MARIONETTE_LAB=slurm/…
// marker each carries), every process in its network namespaces (slurmstepd, jobs' tasks, agents
// started through srun), the namespaces, links, blackhole route and the state folder. Slurm's
// names are fixed (the nodes are n1…nN in slurm.conf), so there is one Slurm lab per machine: the
// folder's owner.json names the test process that runs it, and a lab whose owner is gone (a
// SIGKILLed test run) is swept before the next one starts.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { selectProcesses, signalAll, startTime, type Step } from "../lab/teardown.ts";
import { tool } from "./tools.ts";

/** Outside /tmp and /root (nodes mount their own /tmp) and outside anyone's cache. */
export const SLURM_LAB_DIR = "/var/tmp/mnt-slurm-lab";
export const SLURM_MARKER = "slurm";
export const SLURM_NET = { prefix: "10.79.0", subnet: "10.79.0.0/24", bridge: "slmbr0" };

export const slurmNames = {
  netns: (role: string) => `slm-${role}`,
  veth: (role: string) => `slmv-${role}`,
};
const NETNS_RE = /^slm-(ctl|n\d+)$/;
const VETH_RE = /^slmv-(ctl|n\d+)$/;

interface Owner {
  pid: number;
  /** /proc/<pid>/stat starttime: tells the owner from a later process that got its pid. */
  start: string;
}

export function writeOwner(): void {
  writeFileSync(path.join(SLURM_LAB_DIR, "owner.json"), JSON.stringify({ pid: process.pid, start: startTime(process.pid) ?? "" } satisfies Owner));
}

/** The live process that runs the lab now, or null (none, or its owner died). */
export function liveOwner(): number | null {
  try {
    const owner = JSON.parse(readFileSync(path.join(SLURM_LAB_DIR, "owner.json"), "utf8")) as Owner;
    return startTime(owner.pid) === owner.start ? owner.pid : null;
  } catch {
    return null;
  }
}

function labNamespaces(): string[] {
  try {
    return readdirSync("/run/netns").filter((ns) => NETNS_RE.test(ns));
  } catch {
    return [];
  }
}

/** Whether anything of a Slurm lab is on the machine. */
export function labLeftovers(): string[] {
  const left = labNamespaces().map((ns) => `namespace ${ns}`);
  for (const link of readdirSync("/sys/class/net")) if (VETH_RE.test(link) || link === SLURM_NET.bridge) left.push(`link ${link}`);
  if (existsSync(SLURM_LAB_DIR)) left.push(`folder ${SLURM_LAB_DIR}`);
  const pids = selectProcesses({ markers: [SLURM_MARKER], namespaces: labNamespaces(), roots: [] });
  left.push(...pids.map((pid) => `process ${pid}`));
  return left;
}

/** The processes of one node (everything in its namespace, its slurmd by marker too). */
export function nodeProcesses(node: string): number[] {
  return selectProcesses({ markers: [`${SLURM_MARKER}/${node}`], namespaces: [slurmNames.netns(node)].filter((ns) => labNamespaces().includes(ns)), roots: [] });
}

/** Removes every trace of the lab. Each step tolerates what is already gone, so it can run twice. */
export function* teardownPlan(): Generator<Step, void, void> {
  const namespaces = labNamespaces();
  for (let round = 0; round < 100; round++) {
    const pids = selectProcesses({ markers: [SLURM_MARKER], namespaces, roots: [] });
    if (pids.length === 0) break;
    signalAll(pids, "SIGKILL");
    yield { kind: "sleep", ms: round < 10 ? 10 : 50 };
  }
  const links = readdirSync("/sys/class/net");
  // Deleting one end of a veth pair deletes both; the bridge goes last.
  for (const link of links.filter((l) => VETH_RE.test(l))) yield { kind: "run", file: tool("ip"), args: ["link", "del", link] };
  for (const ns of namespaces) yield { kind: "run", file: tool("ip"), args: ["netns", "del", ns] };
  if (links.includes(SLURM_NET.bridge)) yield { kind: "run", file: tool("ip"), args: ["link", "del", SLURM_NET.bridge] };
  yield { kind: "run", file: tool("ip"), args: ["route", "del", "blackhole", SLURM_NET.subnet, "metric", "4000"] };
  rmSync(SLURM_LAB_DIR, { recursive: true, force: true });
}
