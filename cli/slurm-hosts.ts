// `mnt exec --slurm [salloc options]`: the nodes of a Slurm allocation as agent specs, one agent per
// node started through srun, with slots = the CPUs Slurm gave the job on that node. Without
// options mnt must be inside the allocation (salloc's shell or an sbatch script); with them it
// asks for one with salloc and gives it back at the end, on Ctrl-C, and when mnt dies.
//
// The release: nodes that see this machine's release folder at the same path (a shared file
// system) run it from there; the others get it through srun as a tar stream into a folder of their
// own (/tmp/mnt-UID/releases/ID). One srun step over all nodes checks, one ships.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { parse } from "shell-quote";
import type { CommandAgent } from "../core/connections/command.ts";
import { allocationFromEnv, type Allocation } from "../core/connections/slurm/allocation.ts";
import { checkNodes, shipToNodes, type NodeCheck, type NodesStep } from "../core/connections/slurm/release-on-nodes.ts";
import { requestAllocation, type HeldAllocation } from "../core/connections/slurm/salloc.ts";
import { srunAgentConnector } from "../core/connections/slurm/srun.ts";
import { MntError } from "../core/errors.ts";
import { sha256Hex } from "../core/protocol/manifest.ts";
import type { AgentSpec } from "../core/runtime/runtime.ts";
import { AGENT_FILE, MANIFEST_FILE, PROGRAM_FILE, type Release } from "../toolchain/build/release-folder.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Reporter } from "./report.ts";

export interface SlurmAgentsOptions {
  /** salloc's options as the user typed them (shell words), or "" to use the allocation mnt runs in. */
  allocArgs: string;
  /** This machine's release (the nodes run the same target). */
  release: Release;
  reporter: Reporter;
}

export interface SlurmAgents {
  agents: AgentSpec[];
  slaves: number;
  /** Ends any srun left, removes the shared-data folder, gives back an allocation mnt asked for (resolves once salloc has). */
  close(): Promise<void>;
}

/** srun steps that check or ship get this long (a release of a few MiB moves at 15-35 MB/s). */
const SETUP_TIMEOUT_MS = 120_000;

export async function slurmAgents(options: SlurmAgentsOptions): Promise<SlurmAgents> {
  const words = sallocWords(options.allocArgs);
  const held = words.length > 0 ? await allocate(words, options.reporter) : null;
  try {
    const allocation = await allocationFromEnv(held?.env ?? process.env);
    const sruns = new Set<CommandAgent>();
    // Beside the release, so on the same shared file system as far as the nodes that see it go.
    const sharedDir = path.join(path.dirname(options.release.dir), `shared-${process.pid}-${Date.now().toString(36)}`);
    removeStaleSharedDirs(path.dirname(options.release.dir));
    const agents = await nodeAgents(allocation, options, sharedDir, (agent) => {
      sruns.add(agent);
      void agent.exited.then(() => sruns.delete(agent));
    });
    const close = async () => {
      // An srun whose node died can outlive the step's end by minutes, and the runtime does not
      // wait for the closing of an agent it lost: any still here at the end goes now (its
      // shepherd ends the step), so mnt leaves none behind.
      for (const srun of sruns) srun.kill("SIGKILL");
      await Promise.all([...sruns].map((srun) => srun.exited));
      rmSync(sharedDir, { recursive: true, force: true });
      await held?.release();
    };
    return { agents, slaves: agents.reduce((sum, agent) => sum + (agent.slots as number), 0), close };
  } catch (error) {
    await held?.release();
    throw error;
  }
}

/** Folders of shared data left by runs that died (SIGKILL) before removing theirs: their pid is gone. */
function removeStaleSharedDirs(parent: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^shared-(\d+)-[0-9a-z]+$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `--slurm "-N 3 -p lab"` as salloc's argument words (quotes as a shell reads them; no operators). */
export function sallocWords(text: string): string[] {
  const words = parse(text);
  const bad = words.find((word) => typeof word !== "string");
  if (bad !== undefined) throw new MntError("usage", `--slurm ${JSON.stringify(text)}: only salloc options may follow, not shell syntax (${JSON.stringify(bad)})`, 'e.g. --slurm "-N 3 -p batch --time 10"');
  return words as string[];
}

/** salloc, with Ctrl-C and SIGTERM giving up a request still pending (the run's own handlers come later). */
async function allocate(words: string[], reporter: Reporter): Promise<HeldAllocation> {
  const request = requestAllocation(words, { env: process.env, onLine: (line) => reporter.note(line) });
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    request.cancel();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const exitIfInterrupted = (signal: NodeJS.Signals | null) => {
    if (!signal) return;
    process.stderr.write(`mnt: ${signal}: gave up the Slurm allocation request\n`);
    process.exit(signal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated);
  };
  try {
    const held = await request.held.catch((error: unknown) => {
      exitIfInterrupted(interrupted);
      throw error;
    });
    if (interrupted) {
      // Granted just as the signal came: given back before leaving.
      await held.release();
      exitIfInterrupted(interrupted);
    }
    return held;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function nodeAgents(allocation: Allocation, options: SlurmAgentsOptions, sharedDir: string, onStart: (agent: CommandAgent) => void): Promise<AgentSpec[]> {
  const { release, reporter } = options;
  const names = allocation.nodes.map((node) => node.name);
  reporter.note(`Slurm job ${allocation.jobId}: ${allocation.nodes.map((node) => `${node.name} (${node.cpus} CPU${node.cpus === 1 ? "" : "s"})`).join(", ")}`);
  const step: NodesStep = { jobId: allocation.jobId, nodes: names, env: allocation.env, nodeBinary: process.execPath, cwd: realpathSync(process.cwd()), timeoutMs: SETUP_TIMEOUT_MS };
  const wanted = sha256Hex(readFileSync(path.join(release.dir, MANIFEST_FILE)));
  const checks = await checkReachable(step, path.join(release.dir, MANIFEST_FILE), reporter);
  const placed = new Map<string, NodeCheck>();
  const ship: string[] = [];
  for (const name of names.filter((node) => checks.has(node))) {
    const check = checks.get(name)!;
    if (check.manifestSha === wanted) placed.set(name, { ...check, releaseDir: release.dir });
    else ship.push(name);
  }
  if (placed.size > 0) reporter.note(`release ${release.id}: ${[...placed.keys()].join(", ")} see it on a shared file system (${release.dir})`);
  if (ship.length > 0) {
    const shipped = await shipToNodes({ ...step, nodes: ship }, release.id, tarStream(release.dir));
    for (const name of ship) {
      const check = shipped.get(name)!;
      if (check.manifestSha !== wanted) throw new MntError("infrastructure", `--slurm: ${name}: the release sent through srun arrived changed (manifest sha256 ${check.manifestSha})`);
      placed.set(name, check);
    }
    reporter.note(`release ${release.id}: sent through srun to ${ship.join(", ")} (${shipped.get(ship[0]!)!.releaseDir})`);
  }
  for (const check of placed.values()) requireRunnable(check);
  const log = (host: string) => (line: string) => reporter.event({ kind: "log", host, slot: null, stream: "stderr", line });
  return allocation.nodes.filter((node) => placed.has(node.name)).map((node): AgentSpec => {
    const check = placed.get(node.name)!;
    return {
      host: node.name,
      slots: node.cpus,
      programPath: path.join(check.releaseDir!, PROGRAM_FILE),
      // A node that sees the release in place sees this folder too: shared data goes there as
      // files rather than through srun (see core/runtime/shared-files.ts).
      sharedDir: check.releaseDir === release.dir ? sharedDir : undefined,
      connect: srunAgentConnector({
        jobId: allocation.jobId,
        node: node.name,
        nodeBinary: check.nodeBinary!,
        agentFile: path.join(check.releaseDir!, AGENT_FILE),
        chdir: check.sameCwd ? undefined : check.releaseDir!,
        env: allocation.env,
        onStderrLine: log(node.name),
        onStart,
      }),
    };
  });
}

/**
 * Every node's check in one step. When that step fails (a node of the allocation is down: srun
 * fails the whole step), each node is checked alone: those that answer are used, the others are
 * named and left out, as hosts that cannot be reached are with --hosts. None answering is the
 * run's one error.
 */
async function checkReachable(step: NodesStep, manifestFile: string, reporter: Reporter): Promise<Map<string, NodeCheck>> {
  try {
    return await checkNodes(step, manifestFile);
  } catch (error) {
    if (step.nodes.length === 1) throw error;
    const alone = await Promise.all(step.nodes.map((node) => checkNodes({ ...step, nodes: [node] }, manifestFile).then((checks) => checks.get(node)!, (failure: Error) => failure)));
    const checks = new Map<string, NodeCheck>();
    alone.forEach((result, i) => {
      if (result instanceof Error) process.stderr.write(`mnt: ${result.message}\n`);
      else checks.set(step.nodes[i]!, result);
    });
    if (checks.size === 0) throw error;
    reporter.note(`running on ${[...checks.keys()].join(", ")}: ${checks.size} of the allocation's ${step.nodes.length} nodes`);
    return checks;
  }
}

/** The nodes run this machine's release: they must be the same kind of machine and have Node.js. */
function requireRunnable(check: NodeCheck): void {
  if (check.machine !== os.machine()) {
    throw new MntError("infrastructure", `--slurm: node ${check.node} is ${check.machine}, this machine is ${os.machine()}: mnt runs this machine's build on the nodes`, "run mnt on a node of the same kind (e.g. inside the allocation)");
  }
  if (!check.nodeBinary) {
    throw new MntError("infrastructure", `--slurm: node ${check.node} has no Node.js (not at ${process.execPath}, none on PATH)`, "install Node.js 18 or later on the nodes, or load it in the job's environment (e.g. `module load nodejs`)");
  }
}

/** The release folder as one tar stream (tar is on every Slurm node). */
function tarStream(dir: string): Readable {
  const tar = spawn("tar", ["-c", "-C", dir, "."], { stdio: ["ignore", "pipe", "inherit"] });
  return tar.stdout!;
}
