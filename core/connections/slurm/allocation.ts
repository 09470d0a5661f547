// The allocation mnt runs in: its job id, and each node with the CPUs Slurm gave the job there.
// Read from the environment of the allocation's shell (inside `salloc` or an sbatch script, or the
// one mnt asked for itself) and from `scontrol show hostnames`, which expands Slurm's compressed
// node list (`n[1-3],gpu7`) exactly as Slurm does.
import { MntError } from "../../errors.ts";
import { parseCpusPerNode } from "./cpus.ts";
import { lastLine, runSlurm } from "./run-slurm.ts";

export interface SlurmNode {
  name: string;
  /** CPUs Slurm gave the job on this node: the node's slots. */
  cpus: number;
}

export interface Allocation {
  jobId: string;
  nodes: SlurmNode[];
  /** The allocation shell's environment: what srun is run with. */
  env: NodeJS.ProcessEnv;
}

const NOT_INSIDE_HINT = 'run mnt inside an allocation (`salloc -N 3 mnt exec …` or an sbatch script), or let mnt ask for one: --slurm "-N 3 -p PARTITION"';

/** The allocation whose shell `env` is; throws a usage error when there is none. */
export async function allocationFromEnv(env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Allocation> {
  const jobId = env.SLURM_JOB_ID ?? env.SLURM_JOBID;
  const nodeList = env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
  if (!jobId || !nodeList) throw new MntError("usage", "--slurm: not inside a Slurm allocation (SLURM_JOB_ID is not set)", NOT_INSIDE_HINT);
  const cpusText = env.SLURM_JOB_CPUS_PER_NODE;
  if (!cpusText) throw new MntError("infrastructure", `--slurm: job ${jobId}: SLURM_JOB_CPUS_PER_NODE is not set, so the CPUs per node are unknown`, "run mnt in the allocation's own shell (salloc or the sbatch script), not inside a job step");
  const shown = await runSlurm(["scontrol", "show", "hostnames", nodeList], { env, timeoutMs });
  if (shown.code !== 0) throw new MntError("infrastructure", `--slurm: scontrol show hostnames ${nodeList} failed: ${shown.timedOut ? `no answer in ${timeoutMs / 1000} s` : lastLine(shown.stderr) || `exit ${shown.code}`}`);
  const names = shown.stdout.split("\n").map((line) => line.trim()).filter(Boolean);
  return { jobId, nodes: pairNodes(names, parseCpusPerNode(cpusText), nodeList, cpusText), env };
}

/** Node names and CPU counts, both in Slurm's node order. */
export function pairNodes(names: string[], cpus: number[], nodeList: string, cpusText: string): SlurmNode[] {
  if (names.length === 0 || names.length !== cpus.length) {
    throw new MntError("infrastructure", `--slurm: ${names.length} nodes in SLURM_JOB_NODELIST=${nodeList} but ${cpus.length} CPU counts in SLURM_JOB_CPUS_PER_NODE=${cpusText}`);
  }
  return names.map((name, i) => ({ name, cpus: cpus[i]! }));
}
