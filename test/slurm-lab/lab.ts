// The Slurm lab: a real Slurm cluster on this machine (recipe and measured facts in
// /work/shared/SLURM.md), for tests that run `mnt exec --slurm` through real srun and salloc.
//
//   const lab = await startSlurmLab();            // controller + n1, n2, n3 (2 CPUs each), partition "lab"
//   after(() => lab.stop());
//   await lab.client("srun", ["-N3", "hostname"]); // SLURM_CONF set: n1 n2 n3
//   spawn("salloc", […], { env: lab.env });        // any Slurm client, with lab.env
//   await lab.crashNode("n2");                     // every process of n2 SIGKILLed (slurmd, steps, tasks)
//   await lab.restartNode("n2");                   // slurmd again; resolves once n2 is idle
//
// munged runs in the root namespace with a key and socket of its own. slurmctld runs in network
// namespace slm-ctl as host `slmctl` (10.79.0.2); each node nI in slm-nI (10.79.0.1I) with its own
// hostname and /tmp (so a file under /tmp on this machine is not on a node; everything else is
// shared, like an NFS home). Clients (srun, salloc, squeue, mnt) run here, on the bridge's
// 10.79.0.1. stop() removes every process, namespace, link, route and file the lab made; an 'exit'
// hook does it synchronously if the test process dies first, and the next start sweeps up after a
// SIGKILLed run.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { driveAsync, registerLiveLab, signalAll, unregisterLiveLab } from "../lab/teardown.ts";
import { run, runChecked, sleep, type CommandResult, type RunOptions } from "../lab/run.ts";
import { slurmConf } from "./config.ts";
import { SLURM_LAB_DIR, SLURM_MARKER, SLURM_NET, liveOwner, labLeftovers, nodeProcesses, slurmNames, teardownPlan, writeOwner } from "./teardown.ts";
import { requireSlurmTools, slurmTool, tool, type SlurmToolName } from "./tools.ts";

export { SLURM_INSTALL_COMMAND, requireSlurmTools } from "./tools.ts";
export { labLeftovers } from "./teardown.ts";

export interface SlurmNode {
  name: string;
  address: string;
  netns: string;
  /** The folder mounted as the node's /tmp. */
  tmp: string;
}

export interface SlurmLab {
  dir: string;
  /** slurm.conf; clients need SLURM_CONF pointing to it (lab.env has it). */
  conf: string;
  /** This process's environment plus SLURM_CONF: for srun, salloc, squeue and `mnt exec --slurm`. */
  env: NodeJS.ProcessEnv;
  partition: string;
  cpusPerNode: number;
  nodes: SlurmNode[];
  /** Runs a Slurm client command (by absolute path, with lab.env). */
  client(name: SlurmToolName, args: string[], options?: Omit<RunOptions, "env">): Promise<CommandResult>;
  /** Node name → state as sinfo prints it (idle, alloc, mix, down*, …). */
  nodeStates(): Promise<Map<string, string>>;
  /** Ids of the jobs still pending or holding nodes (squeue; a job completing is being given back). */
  jobs(): Promise<string[]>;
  /** SIGKILLs every process of the node: its slurmd, slurmstepd, and every task running there. */
  crashNode(name: string): Promise<void>;
  /** Starts the node's slurmd again; resolves once Slurm has it idle. */
  restartNode(name: string): Promise<void>;
  stop(): Promise<void>;
}

const PARTITION = "lab";
const CPUS_PER_NODE = 2;
const READY_TIMEOUT_MS = 20_000;
const CONTROLLER = { name: "slmctl", address: `${SLURM_NET.prefix}.2`, role: "ctl" };

export async function startSlurmLab(nodeCount = 3): Promise<SlurmLab> {
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 9) throw new RangeError(`nodeCount must be 1 to 9, got ${nodeCount}`);
  requireSlurmTools();
  const owner = liveOwner();
  if (owner !== null) throw new Error(`a Slurm lab is running already, for process ${owner} (${SLURM_LAB_DIR}): Slurm's node names are fixed, one lab per machine`);
  // A lab whose test process was SIGKILLed: gone before this one starts.
  await driveAsync(teardownPlan());
  mkdirSync(SLURM_LAB_DIR, { recursive: true, mode: 0o755 });
  writeOwner();
  registerLiveLab(SLURM_MARKER, teardownPlan);
  const dir = SLURM_LAB_DIR;
  const nodes: SlurmNode[] = Array.from({ length: nodeCount }, (_, i) => {
    const name = `n${i + 1}`;
    return { name, address: `${SLURM_NET.prefix}.${11 + i}`, netns: slurmNames.netns(name), tmp: path.join(dir, "nodes", name, "tmp") };
  });
  const conf = path.join(dir, "slurm.conf");
  const env = { ...process.env, SLURM_CONF: conf };
  const mungeSocket = path.join(dir, "munge", "munge.socket");
  try {
    await network(nodes);
    for (const node of nodes) {
      mkdirSync(path.join(dir, "nodes", node.name, "spool"), { recursive: true });
      mkdirSync(node.tmp, { recursive: true });
      chmodSync(node.tmp, 0o1777);
    }
    mkdirSync(path.join(dir, "ctl", "state"), { recursive: true });
    writeFileSync(conf, slurmConf({ dir, mungeSocket, controller: CONTROLLER, nodes, cpusPerNode: CPUS_PER_NODE, partition: PARTITION }));
    await startMunge(dir, mungeSocket);
    daemon("ctl", [tool("nsenter"), `--net=/run/netns/${slurmNames.netns(CONTROLLER.role)}`, tool("unshare"), "--uts", "sh", "-c", `hostname ${CONTROLLER.name} && exec "$0" -D -f "$1"`, slurmTool("/usr/sbin/slurmctld"), conf], path.join(dir, "ctl", "console.log"));
    await until(async () => (await run(slurmTool("scontrol"), ["ping"], { env, timeoutMs: 5000 })).stdout.includes("UP"), "slurmctld to answer `scontrol ping`", path.join(dir, "ctl", "slurmctld.log"));
    for (const node of nodes) startSlurmd(node, conf);
    const lab = makeLab(dir, conf, env, nodes);
    await until(async () => [...(await lab.nodeStates()).values()].every((state) => state === "idle"), `nodes ${nodes.map((n) => n.name).join(", ")} to be idle`, path.join(dir, "ctl", "slurmctld.log"));
    return lab;
  } catch (error) {
    await driveAsync(teardownPlan());
    unregisterLiveLab(SLURM_MARKER);
    throw error;
  }
}

function makeLab(dir: string, conf: string, env: NodeJS.ProcessEnv, nodes: SlurmNode[]): SlurmLab {
  const client = (name: SlurmToolName, args: string[], options: Omit<RunOptions, "env"> = {}) => run(slurmTool(name), args, { ...options, env });
  const nodeStates = async () => {
    const out = await client("sinfo", ["-h", "-N", "-o", "%N %T"], { timeoutMs: 10_000 });
    return new Map(out.stdout.trim().split("\n").filter(Boolean).map((line) => line.split(" ") as [string, string]));
  };
  let stopped = false;
  return {
    dir,
    conf,
    env,
    partition: PARTITION,
    cpusPerNode: CPUS_PER_NODE,
    nodes,
    client,
    nodeStates,
    async jobs() {
      const out = await client("squeue", ["-h", "-t", "PENDING,RUNNING,CONFIGURING", "-o", "%i"], { timeoutMs: 10_000 });
      if (out.code !== 0) throw new Error(`squeue failed: ${out.stderr.trim()}`);
      return out.stdout.split("\n").map((line) => line.trim()).filter(Boolean);
    },
    async crashNode(name) {
      for (let round = 0; round < 100; round++) {
        const pids = nodeProcesses(name);
        if (pids.length === 0) return;
        signalAll(pids, "SIGKILL");
        await sleep(20);
      }
      throw new Error(`${name}: processes still alive after 100 rounds of SIGKILL`);
    },
    async restartNode(name) {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no node ${name}`);
      startSlurmd(node, conf);
      await until(async () => (await nodeStates()).get(name) === "idle", `${name} to be idle again`, path.join(dir, "nodes", name, "slurmd.log"));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await driveAsync(teardownPlan());
      unregisterLiveLab(SLURM_MARKER);
      const left = labLeftovers();
      if (left.length > 0) throw new Error(`the Slurm lab left: ${left.join(", ")}`);
    },
  };
}

async function network(nodes: SlurmNode[]): Promise<void> {
  const roles = [{ role: CONTROLLER.role, address: CONTROLLER.address }, ...nodes.map((node) => ({ role: node.name, address: node.address }))];
  const { bridge, prefix, subnet } = SLURM_NET;
  // If the bridge goes away, stray lab packets die in the blackhole instead of leaving by the default route.
  const root = [`link add ${bridge} type bridge`, `addr add ${prefix}.1/24 dev ${bridge}`, `link set ${bridge} up`, `route add blackhole ${subnet} metric 4000`];
  for (const { role } of roles) {
    const ns = slurmNames.netns(role);
    root.push(`netns add ${ns}`, `link add ${slurmNames.veth(role)} type veth peer name eth0 netns ${ns}`, `link set ${slurmNames.veth(role)} master ${bridge} up`);
  }
  await runChecked(tool("ip"), ["-batch", "-"], { input: `${root.join("\n")}\n` });
  await Promise.all(
    roles.map(({ role, address }) =>
      runChecked(tool("ip"), ["-n", slurmNames.netns(role), "-batch", "-"], { input: `link set lo up\naddr add ${address}/24 dev eth0\nlink set eth0 up\n` }),
    ),
  );
}

async function startMunge(dir: string, socket: string): Promise<void> {
  const mungeDir = path.dirname(socket);
  // munged refuses a socket folder others cannot search: "execute permissions for all required".
  mkdirSync(mungeDir, { recursive: true, mode: 0o755 });
  chmodSync(mungeDir, 0o755);
  const key = path.join(mungeDir, "munge.key");
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  daemon("munge", [slurmTool("/usr/sbin/munged"), "--foreground", `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${mungeDir}/munged.pid`, `--log-file=${mungeDir}/munged.log`, `--seed-file=${mungeDir}/munged.seed`], path.join(mungeDir, "console.log"));
  await until(async () => existsSync(socket), "munged's socket", path.join(mungeDir, "munged.log"));
}

/**
 * A node's slurmd: `nsenter --net` (not `ip netns exec`, which remounts /sys and hides the cgroup
 * file system slurmd 22.05 insists on), its own hostname (= NodeName) and its own /tmp. A checkout
 * of the project under /tmp (a CI clone may be) stays visible at its path, as a home folder on a
 * cluster's shared file system would: tests run mnt itself on a node (an sbatch script).
 */
function startSlurmd(node: SlurmNode, conf: string): void {
  const exposed = checkoutUnderTmp();
  const keep = exposed ? `mkdir -p "$1/$4" && mount --bind "/tmp/$4" "$1/$4" && ` : "";
  // --rbind: the node's /tmp with the checkout mounted inside it.
  const script = `hostname "$0" && ${keep}mount --rbind "$1" /tmp && exec "$2" -D -f "$3"`;
  daemon(node.name, [tool("nsenter"), `--net=/run/netns/${node.netns}`, tool("unshare"), "--uts", "--mount", "--propagation", "private", "sh", "-c", script, node.name, node.tmp, slurmTool("/usr/sbin/slurmd"), conf, exposed ?? ""], path.join(path.dirname(node.tmp), "console.log"));
}

/** The project's checkout, relative to /tmp, when it is under /tmp. */
function checkoutUnderTmp(): string | null {
  const root = realpathSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", ".."));
  const relative = path.relative("/tmp", root);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : null;
}

/** Starts a lab daemon with its marker (found and killed by it at teardown), output to a file. */
function daemon(role: string, argv: string[], logFile: string): void {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, "a");
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", out, out], env: { ...process.env, MARIONETTE_LAB: `${SLURM_MARKER}/${role}` } });
  closeSync(out);
  child.on("error", () => {});
  child.unref();
}

async function until(check: () => Promise<boolean>, what: string, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  let tail = "";
  try {
    tail = (await run("tail", ["-n", "15", logFile])).stdout;
  } catch {
    // no log
  }
  throw new Error(`Slurm lab: waited ${READY_TIMEOUT_MS / 1000} s for ${what}; ${logFile} ends:\n${tail}`);
}
