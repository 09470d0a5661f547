// How many CPUs Slurm gave the job on each node, from SLURM_JOB_CPUS_PER_NODE: counts in node
// order, a run of equal counts written `N(xK)`: "2(x3),1" is 2, 2, 2, 1. Set by salloc and sbatch
// in the allocation's own shell (SLURM_CPUS_ON_NODE is not: it is a step's, on a node).
import { MntError } from "../../errors.ts";

export function parseCpusPerNode(text: string): number[] {
  const counts: number[] = [];
  for (const part of text.trim().split(",")) {
    const match = /^(\d+)(?:\(x(\d+)\))?$/.exec(part.trim());
    if (!match) throw new MntError("infrastructure", `SLURM_JOB_CPUS_PER_NODE=${JSON.stringify(text)}: cannot read part ${JSON.stringify(part)} (expected counts like 2(x3),1)`);
    const cpus = Number(match[1]);
    const repeat = match[2] === undefined ? 1 : Number(match[2]);
    for (let i = 0; i < repeat; i++) counts.push(cpus);
  }
  return counts;
}
