// `mnt deploy` (and the deploy inside `mnt exec --hosts`): every host at once, bounded, each
// connected, probed, given the release for its target (and, with `node: ship`, the official
// Node.js for its arch), checked there and switched. Hosts whose work folder is one shared file
// system (NFS homes, a bind mount: they read the same id from a marker file) receive it once.
import { remoteDirWord } from "../../core/connections/agent-command.ts";
import { checkHost, type CheckOptions, type HostCheck } from "../../core/connections/ssh/check-hosts.ts";
import type { HostLink } from "../../core/connections/connection.ts";
import { SHIP_NODE } from "../../core/connections/ssh/probe.ts";
import { MntError } from "../../core/errors.ts";
import type { HostEntry } from "../../core/hosts/inventory.ts";
import type { Release } from "../build/release-folder.ts";
import { targetNamed, type Target } from "../targets.ts";
import { HostMemory } from "./host-memory.ts";
import { checkRequirements, ensureFolder, folderState, readState, releaseFolder, stateCheck, switchCurrent, switchTo, targetOfHost, type FolderOnHost, type HostContext } from "./deploy-host.ts";
import type { DeployEvent, DeployStep, HostDeployed } from "./events.ts";
import type { Sent } from "./send-folder.ts";
import { shippedNode } from "./shipped-node.ts";

/** Hosts deployed at once: each costs an SSH connection and, when sending, a local rsync. */
export const DEFAULT_CONCURRENCY = 8;

export interface DeployRequest {
  hosts: HostEntry[];
  /**
   * The release for a target: built on demand (cached) or found in a build folder; throws a
   * one-line error (e.g. naming the `mnt build --arch` to run) when there is none.
   */
  releaseFor: (target: Target) => Promise<Release>;
  /** Only check that each host has its release, whole, as `current`; send nothing (`mnt exec --no-deploy`). */
  checkOnly?: boolean;
  check: Omit<CheckOptions, "keepOpen">;
  concurrency?: number;
  onEvent?: (event: DeployEvent) => void;
}

/** A host ready to run agents: its connection and where its release is. */
export interface DeployedHost {
  entry: HostEntry;
  check: HostCheck;
  session: HostLink;
  target: Target;
  release: Release;
  /** The release folder relative to the work folder (`releases/<id>`): the agents run there. */
  folder: string;
  /** The shell words that run Node.js there (the inventory's, or the shipped one's path). */
  node: string;
}

export interface DeployOutcome {
  results: HostDeployed[];
  /** The hosts deployed (or already up to date), by name. */
  ready: Map<string, DeployedHost>;
  /** The hosts that could not be reached or probed at all (they may come up later). */
  checks: HostCheck[];
}

export async function deploy(request: DeployRequest): Promise<DeployOutcome> {
  const emit = request.onEvent ?? (() => {});
  const run: DeployRun = { request, memory: new HostMemory(), shared: new Map() };
  const ready = new Map<string, DeployedHost>();
  const checks: HostCheck[] = new Array(request.hosts.length);
  const results = await mapBounded(request.hosts, request.concurrency ?? DEFAULT_CONCURRENCY, async (entry, index) => {
    const started = performance.now();
    const result: HostDeployed = { host: entry.name, status: "failed", target: null, releaseId: null, bytesSent: 0, filesChanged: 0, via: null, error: null, ms: 0 };
    const step: StepReporter = (name, state, detail) => emit({ kind: "step", host: entry.name, step: name, state, detail });
    try {
      const host = await deployHost(run, entry, result, step, (check) => (checks[index] = check));
      ready.set(entry.name, host);
    } catch (error) {
      const message = (error as Error).message;
      // Errors from the connection already name the host (`h2 (root@10.0.0.2:22): cannot connect`).
      result.error = /^([^\s:]+)[: ]/.exec(message)?.[1] === entry.name ? message : `${entry.name}: ${message}`;
      checks[index]?.session?.close();
    }
    result.ms = performance.now() - started;
    emit({ kind: "host.done", result });
    return result;
  });
  run.memory.save();
  return { results, ready, checks };
}

/** What the hosts of one deploy share. */
interface DeployRun {
  request: DeployRequest;
  memory: HostMemory;
  /** Transfers by file system and folder: hosts sharing a work folder wait for the first one's. */
  shared: Map<string, Promise<Sent>>;
}

type StepReporter = (step: DeployStep, state: "start" | "done" | "skipped", detail?: string) => void;

/** One host, start to end; fills in `result` as it goes and throws its one-line error. */
async function deployHost(run: DeployRun, entry: HostEntry, result: HostDeployed, step: StepReporter, onCheck: (check: HostCheck) => void): Promise<DeployedHost> {
  const { request } = run;
  step("connect", "start");
  // The host as the last deploy found it: its release's state is read in the probe's own exec.
  const remembered = run.memory.recall(entry);
  const guess = remembered ? await guessRelease(request, remembered.target) : null;
  const after = guess ? stateCheck(entry.workDir, releaseFolder(guess.release), !request.checkOnly) : null;
  const check = await checkHost(entry, { ...request.check, keepOpen: true, known: remembered?.node, after });
  onCheck(check);
  if (check.facts === null) throw check.error!;
  step("connect", "done", check.hostKey === "recorded" ? "host key recorded" : undefined);
  step("probe", "done", `${check.facts.platform}-${check.facts.arch}, Node.js ${check.facts.node ?? (entry.node === SHIP_NODE ? "to ship" : "none")}, ${check.facts.rsync ? "rsync" : "no rsync: SFTP"}`);
  if (check.error) throw check.error;
  const hostSession = check.session!;
  const host: HostContext = { name: entry.name, session: await hostSession.get(), facts: check.facts, workDir: entry.workDir };
  const target = targetOfHost(host);
  run.memory.remember(entry, target.name, check);
  const guessed = guess?.target === target && check.after !== null;
  const release = guessed ? guess!.release : await request.releaseFor(target);
  checkRequirements(host, release);
  result.target = target.name;
  result.releaseId = release.id;

  const node = entry.node === SHIP_NODE ? await shipNode(host, target, request.checkOnly ?? false, result, step) : entry.node;

  const folder = releaseFolder(release);
  step("verify", "start");
  const state = guessed ? readState(host, check.after!) : await folderState(host, folder, !request.checkOnly);
  if (request.checkOnly && (state.state !== "ok" || state.current !== folder.folder)) {
    throw new MntError("infrastructure", `${entry.name}: release ${release.id} (${target.name}) is not deployed there (${state.state === "ok" ? "not current" : state.state})`, "run mnt deploy, or drop --no-deploy");
  }
  step("verify", "done", state.state === "ok" ? "in place and checked" : state.state === "corrupt" ? `corrupt (${state.bad.join("; ")}): mending` : state.state);
  // Hosts of one file system share the folder: the first to get here sends it, the others wait.
  const key = `${state.fsId}\0${folder.folder}`;
  let sent: Sent;
  const leader = run.shared.get(key);
  if (state.fsId && leader) {
    step("transfer", "start", "shared folder: sent by another host");
    await leader;
    sent = { bytesSent: 0, filesChanged: 0, via: "shared" };
  } else {
    step("transfer", "start");
    // The switch rides on the exec that finishes the transfer.
    const transfer = ensureFolder(host, folder, state, state.current || null, switchTo(folder.folder, target), (bytes) => step("transfer", "start", `${bytes} bytes`));
    if (state.fsId) run.shared.set(key, transfer);
    sent = await transfer;
  }
  step("transfer", sent.via === "none" ? "skipped" : "done", `${sent.filesChanged} files, ${sent.bytesSent} bytes${sent.via ? ` (${sent.via})` : ""}`);
  result.bytesSent += sent.bytesSent;
  result.filesChanged += sent.filesChanged;
  result.via = sent.via;
  // Switched already when this host sent the release; nothing sent and `current` already right:
  // no further round trip (nor anything to prune).
  if (sent.via !== "none" && sent.via !== "shared") {
    step("switch", "done", `current → ${folder.folder}`);
  } else if (request.checkOnly || state.current === folder.folder) {
    step("switch", "skipped", `current is ${folder.folder}`);
  } else {
    step("switch", "start");
    await switchCurrent(host, folder.folder, target);
    step("switch", "done", `current → ${folder.folder}`);
  }
  result.status = result.filesChanged > 0 ? "deployed" : "unchanged";
  return { entry, check, session: hostSession, target, release, folder: folder.folder, node };
}

/** `node: ship`: the official Node.js for the target in `runtimes/` on the host; returns the shell words that run it. */
async function shipNode(host: HostContext, target: Target, checkOnly: boolean, result: HostDeployed, step: StepReporter): Promise<string> {
  step("node", "start");
  const runtime = await shippedNode(target);
  const folder: FolderOnHost = { localDir: runtime.dir, files: runtime.files, folder: `runtimes/${runtime.name}`, verifyAlways: false };
  const state = await folderState(host, folder, !checkOnly);
  if (checkOnly && state.state !== "ok") throw new MntError("infrastructure", `${host.name}: the Node.js to ship (${runtime.name}) is not there`, "run mnt deploy, or drop --no-deploy");
  const sent = await ensureFolder(host, folder, state, null, []);
  result.bytesSent += sent.bytesSent;
  result.filesChanged += sent.filesChanged;
  step("node", "done", sent.filesChanged > 0 ? `Node.js ${runtime.version} sent` : `Node.js ${runtime.version} in place`);
  return `${remoteDirWord(host.workDir)}/runtimes/${runtime.name}/bin/node`;
}

/** The release of the target a host had last time, if there is one (a guess: the probe confirms it). */
async function guessRelease(request: DeployRequest, targetName: string): Promise<{ target: Target; release: Release } | null> {
  const target = targetNamed(targetName);
  if (!target) return null;
  try {
    return { target, release: await request.releaseFor(target) };
  } catch {
    return null; // no build for it: found out (and said) after the probe, if the host still needs it
  }
}

/** Runs `work` on every item, at most `limit` at a time, results in input order. */
async function mapBounded<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
