// `mnt exec --hosts hosts.yaml`: deploys first (builds and sends what is missing or stale; with
// --no-deploy only checks that every host has its release), says up front which hosts cannot be
// used and why, and turns the usable ones into agent specs that start the agent from each host's
// release, over the host's one SSH connection.
import { launchedAgentConnector, LaunchedHost } from "../core/connections/launch.ts";
import { sshAgentConnector } from "../core/connections/ssh/agent-over-ssh.ts";
import { HostSession } from "../core/connections/ssh/host-session.ts";
import type { HostEntry } from "../core/hosts/inventory.ts";
import { loadInventory } from "../core/hosts/inventory.ts";
import { MntError } from "../core/errors.ts";
import type { AgentConnection } from "../core/connections/connection.ts";
import type { AgentSpec } from "../core/runtime/runtime.ts";
import { AGENT_FILE, PROGRAM_FILE } from "../toolchain/build/release-folder.ts";
import { deploy, type DeployedHost, type DeployRequest } from "../toolchain/deploy/deploy.ts";
import type { Release } from "../toolchain/build/release-folder.ts";
import type { Target } from "../toolchain/targets.ts";
import { terminalPassphrasePrompt } from "./passphrase.ts";
import type { Reporter } from "./report.ts";

export interface RemoteAgentsOptions {
  file: string;
  releaseFor: (target: Target) => Promise<Release>;
  requireAll: boolean;
  /** Refuse hosts whose release is not in place instead of deploying it. */
  noDeploy: boolean;
  reporter: Reporter;
}

export interface RemoteAgents {
  agents: AgentSpec[];
  /** Slaves the usable hosts will run (their slots, `auto` counted as their cores). */
  slaves: number;
  /** Ends every host's SSH connection (after the run). */
  close(): void;
}

export async function remoteAgents(options: RemoteAgentsOptions): Promise<RemoteAgents> {
  const inventory = loadInventory(options.file);
  const request: Omit<DeployRequest, "hosts"> = {
    releaseFor: options.releaseFor,
    checkOnly: options.noDeploy,
    check: { askPassphrase: terminalPassphrasePrompt(), onHostKeyRecorded: (line) => options.reporter.note(`recorded a new host key: ${line}`) },
  };
  const outcome = await deploy({ ...request, hosts: inventory.hosts });
  for (const result of outcome.results) if (result.status === "deployed") options.reporter.note(`${result.host}: deployed ${result.target} release ${result.releaseId} (${result.filesChanged} files, ${result.bytesSent} bytes)`);
  const ready = inventory.hosts.map((entry) => outcome.ready.get(entry.name)).filter((host): host is DeployedHost => host !== undefined);
  const failed = outcome.results.filter((result) => result.status === "failed");
  const close = () => ready.forEach((host) => host.session.close());
  const checkOf = (name: string) => outcome.checks.find((check) => check?.host.name === name);
  // A single host that fails is the run's one error; with several, each is named up front.
  if (inventory.hosts.length === 1 && failed.length === 1) {
    throw checkOf(failed[0]!.host)?.error ?? new MntError("infrastructure", failed[0]!.error!);
  }
  for (const result of failed) process.stderr.write(`mnt: ${result.error}\n`);
  if (failed.length > 0 && (options.requireAll || ready.length === 0)) {
    close();
    const refused = failed.every((result) => checkOf(result.host)?.error?.code === "auth");
    const why = options.requireAll ? "--require-all: not every host is usable" : "no host in the inventory is usable";
    throw new MntError(refused ? "auth" : "infrastructure", `${inventory.file}: ${why} (${failed.length} of ${inventory.hosts.length} failed, see above)`, "fix them, or run `mnt hosts check` for details");
  }
  // A host that could not be reached at all may come up later: it keeps being tried, deployed
  // when it answers, and joins the run (set aside after repeated failures). One that answered
  // wrongly (a refused key or login, an old Node.js, no build) will not heal by itself.
  const later = inventory.hosts.filter((entry) => {
    const check = checkOf(entry.name);
    return check !== undefined && check.facts === null && check.error?.code === "infrastructure";
  });
  if (failed.length > 0) {
    const joining = later.length > 0 ? `; ${later.map((entry) => entry.name).join(", ")} will join if ${later.length === 1 ? "it comes" : "they come"} up` : "";
    options.reporter.note(`running on ${ready.length} of ${inventory.hosts.length} hosts${joining}`);
  }
  const logger = (name: string) => (line: string) => options.reporter.event({ kind: "log", host: name, slot: null, stream: "stderr", line });
  const agents: AgentSpec[] = [
    ...ready.map((host): AgentSpec => ({ host: host.entry.name, slots: host.entry.slots, tags: host.entry.tags, programPath: PROGRAM_FILE, connect: agentConnector(host, logger(host.entry.name)) })),
    ...later.map((entry): AgentSpec => ({ host: entry.name, slots: entry.slots, tags: entry.tags, programPath: PROGRAM_FILE, connect: lateConnector(entry, request, logger(entry.name), (host) => ready.push(host)) })),
  ];
  const slaves = ready.reduce((sum, host) => sum + (host.entry.slots === "auto" ? (host.check.facts?.cores ?? 0) : host.entry.slots), 0);
  return { agents, slaves, close };
}

/** Starts agents from a deployed host's release, the way the host is reached (SSH or its launch command). */
export function agentConnector(host: DeployedHost, onStderrLine?: (line: string) => void): () => Promise<AgentConnection> {
  const where = { workDir: host.entry.workDir, release: host.folder, agentFile: AGENT_FILE, node: host.node, onStderrLine };
  if (host.session instanceof LaunchedHost) return launchedAgentConnector({ host: host.session, ...where });
  if (host.session instanceof HostSession) return sshAgentConnector({ session: host.session, ...where });
  throw new Error(`${host.entry.name}: reached neither over SSH nor by a launch command`);
}

/** A host down at the start: each attempt deploys it first, until that has worked once. */
function lateConnector(entry: HostEntry, request: Omit<DeployRequest, "hosts">, onStderrLine: (line: string) => void, onReady: (host: DeployedHost) => void): () => Promise<AgentConnection> {
  let connect: (() => Promise<AgentConnection>) | null = null;
  return async () => {
    if (!connect) {
      const outcome = await deploy({ ...request, hosts: [entry] });
      const host = outcome.ready.get(entry.name);
      if (!host) throw new MntError("infrastructure", outcome.results[0]!.error ?? `${entry.name}: not deployed`);
      onReady(host);
      connect = agentConnector(host, onStderrLine);
    }
    return connect();
  };
}
