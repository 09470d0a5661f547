// The commands the Slurm lab needs, resolved once. A missing one is an Error naming the exact
// install command: a test that needs Slurm never skips (CI=true or not).
import { locate, requireLabTools, tool } from "../lab/tools.ts";

export const SLURM_INSTALL_COMMAND = "apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge";

/** Command → the Debian package that ships it (all named by SLURM_INSTALL_COMMAND). */
const SLURM_TOOLS = {
  "/usr/sbin/slurmctld": "slurmctld",
  "/usr/sbin/slurmd": "slurmd",
  "/usr/sbin/munged": "munge",
  srun: "slurm-client",
  salloc: "slurm-client",
  sbatch: "slurm-client",
  scontrol: "slurm-client",
  sinfo: "slurm-client",
  squeue: "slurm-client",
  scancel: "slurm-client",
} as const;

export type SlurmToolName = keyof typeof SLURM_TOOLS;

let resolved: Record<SlurmToolName, string> | null = null;

/** Throws unless Slurm, munge and the lab's network tools are installed and we are root. */
export function requireSlurmTools(): void {
  const missing = Object.entries(SLURM_TOOLS).filter(([name]) => locate(name) === null);
  if (missing.length > 0) {
    const names = missing.map(([name, pkg]) => `${name} (${pkg})`).join(", ");
    throw new Error(`the Slurm lab needs commands that are not installed: ${names}; install them as root with: ${SLURM_INSTALL_COMMAND}`);
  }
  // ip, nsenter, unshare, mount and root: the same as the sshd lab's.
  requireLabTools();
  resolved = Object.fromEntries(Object.keys(SLURM_TOOLS).map((name) => [name, locate(name)!])) as Record<SlurmToolName, string>;
}

export function slurmTool(name: SlurmToolName): string {
  if (!resolved) requireSlurmTools();
  return resolved![name];
}

export { tool };
