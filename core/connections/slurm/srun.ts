// The srun command lines mnt runs inside an allocation, and agents started through srun.
//
// One agent per node, each its own step: `srun -u --overlap --nodes=1 --ntasks=1 -w NODE
// --jobid=JOB NODEJS AGENT`. Why each flag (measured, /work/shared/SLURM.md):
// - `-u`: without it slurmstepd holds a partial line until a newline or EOF, and a binary
//   protocol deadlocks waiting for the rest of a frame.
// - `--overlap`: a step without it waits for CPUs the allocation's other steps hold (minutes).
// - `--jobid`: the step joins this allocation, whatever the environment says.
// srun carries stdin to the task and its stdout back unchanged (binary safe), and when srun itself
// is killed, its shepherd child ends the step: so only srun's own pid is ever signalled.
import { startCommandAgent, type CommandAgent } from "../command.ts";
import type { AgentConnection } from "../connection.ts";

/** A one-task-per-node step on `nodes` (checks and release shipping). */
export function srunOnNodes(jobId: string, nodes: readonly string[], command: readonly string[]): string[] {
  return ["srun", "--overlap", `--jobid=${jobId}`, `--nodes=${nodes.length}`, `--ntasks=${nodes.length}`, "--ntasks-per-node=1", `--nodelist=${nodes.join(",")}`, "--job-name=mnt-setup", ...command];
}

/**
 * The step that runs one node's agent. It starts in the master's working folder, as srun does by
 * default, unless the node has no such folder (`chdir`): srun would then say so on every start.
 */
export function srunAgentArgv(jobId: string, node: string, nodeBinary: string, agentFile: string, chdir?: string): string[] {
  return ["srun", "-u", "--overlap", "--nodes=1", "--ntasks=1", "-w", node, `--jobid=${jobId}`, "--job-name=mnt-agent", ...(chdir ? [`--chdir=${chdir}`] : []), nodeBinary, agentFile];
}

export interface SrunAgentOptions {
  jobId: string;
  node: string;
  nodeBinary: string;
  agentFile: string;
  /** Where the agent starts when the master's working folder is not on the node. */
  chdir?: string;
  /** The allocation's environment (srun exports it to the task). */
  env: NodeJS.ProcessEnv;
  onStderrLine?: (line: string) => void;
  onStart?: (agent: CommandAgent) => void;
}

/**
 * How long srun gets to end after its stdin closed. An agent leaves at once when its stdin closes,
 * so a srun still there after 1 s is one whose node is gone: it would hang for minutes (srun
 * outlives a dead node's step), so it gets SIGTERM (ends it within ~1-3 s), then SIGKILL.
 */
const SRUN_EXIT_GRACE_MS = 1000;

/** A reconnectable node: each call starts a fresh agent step through srun. */
export function srunAgentConnector(options: SrunAgentOptions): () => Promise<AgentConnection> {
  return async () => {
    const agent = startCommandAgent(srunAgentArgv(options.jobId, options.node, options.nodeBinary, options.agentFile, options.chdir), {
      env: options.env,
      onStderrLine: options.onStderrLine,
      stopSignal: "SIGTERM",
      exitGraceMs: SRUN_EXIT_GRACE_MS,
    });
    options.onStart?.(agent);
    return agent;
  };
}
