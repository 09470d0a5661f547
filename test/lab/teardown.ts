// Finding and removing everything a lab made: its processes (by the MARIONETTE_LAB marker every lab
// process carries, by network namespace, and by descent from the sshd it spawned), namespaces,
// links, the blackhole route and the state folder. The plan is a generator of steps with no I/O
// of its own beyond /proc reads and kill(2): stop() drives it asynchronously, the process 'exit'
// hook synchronously, and the stale sweep drives it for labs whose test process died.
import { randomInt } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { run, runSyncQuiet, sleep, sleepSync } from "./run.ts";
import { tool } from "./tools.ts";

/** Outside /tmp and /root: netns hosts bind-mount their own over those, the lab's files must stay shared. */
export const LAB_ROOT = "/var/tmp/mnt-lab";
export const MARKER = "MARIONETTE_LAB";
const ID = "[0-9a-z]{4}";

// ---- names: everything a lab creates carries its 4-character id ---------------------------------

export const names = {
  /** The test process pid is in the name so `ip netns list` shows whose it is. */
  netns: (id: string, index: number) => `mnt-lab-${process.pid}-${id}-h${index}`,
  bridge: (id: string) => `mntb-${id}`,
  veth: (id: string, index: number) => `mntv-${id}-${index}`,
  marker: (id: string, host: string) => `${id}/${host}`,
};
const NETNS_RE = new RegExp(`^mnt-lab-\\d+-(${ID})-h\\d+$`);
const LINK_RE = new RegExp(`^mnt[bv]-(${ID})(?:-\\d+)?$`);

// ---- ownership: LAB_ROOT/<id>/owner.json names the test process (pid + start time) -------------

interface Owner {
  pid: number;
  /** /proc/<pid>/stat starttime: tells the owner from a later process that got its pid. */
  start: string;
  subnet?: string;
}

export function claimLabDir(): { id: string; dir: string } {
  mkdirSync(LAB_ROOT, { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = randomInt(36 ** 4).toString(36).padStart(4, "0");
    const dir = path.join(LAB_ROOT, id);
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    writeOwner(id, {});
    return { id, dir };
  }
  throw new Error(`no free lab id in ${LAB_ROOT} after 100 attempts`);
}

export function writeOwner(id: string, extra: { subnet?: string }): void {
  const owner: Owner = { pid: process.pid, start: startTime(process.pid) ?? "", ...extra };
  writeFileSync(path.join(LAB_ROOT, id, "owner.json"), JSON.stringify(owner));
}

function readOwner(id: string): Owner | null {
  try {
    return JSON.parse(readFileSync(path.join(LAB_ROOT, id, "owner.json"), "utf8")) as Owner;
  } catch {
    return null;
  }
}

function ownerAlive(id: string): boolean {
  const owner = readOwner(id);
  if (owner) return startTime(owner.pid) === owner.start;
  try {
    // A folder without owner.json is a lab being created right now, or a crash in that instant.
    return Date.now() - statSync(path.join(LAB_ROOT, id)).mtimeMs < 60_000;
  } catch {
    return false;
  }
}

// ---- /proc --------------------------------------------------------------------------------------

export interface ProcRef {
  pid: number;
  start: string;
}

interface Proc extends ProcRef {
  ppid: number;
  zombie: boolean;
  marker: string | null;
  netns: string | null;
}

export function startTime(pid: number): string | null {
  return readStat(pid)?.start ?? null;
}

function readStat(pid: number): { ppid: number; state: string; start: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0]!, ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return null;
  }
}

function readMarker(pid: number): string | null {
  try {
    const env = readFileSync(`/proc/${pid}/environ`);
    const key = Buffer.from(`${MARKER}=`);
    let at = env.indexOf(key);
    while (at > 0 && env[at - 1] !== 0) at = env.indexOf(key, at + 1);
    if (at < 0) return null;
    const end = env.indexOf(0, at);
    return env.subarray(at + key.length, end < 0 ? env.length : end).toString();
  } catch {
    return null;
  }
}

function snapshot(): Proc[] {
  const procs: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (!stat) continue;
    let netns: string | null = null;
    try {
      netns = readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      // gone, or a kernel thread
    }
    procs.push({ pid, ppid: stat.ppid, start: stat.start, zombie: stat.state === "Z", marker: readMarker(pid), netns });
  }
  return procs;
}

/** `net:[inode]` of each named namespace, as /proc/<pid>/ns/net reads. */
function netnsLinks(namespaces: string[]): Set<string> {
  const links = new Set<string>();
  for (const ns of namespaces) {
    try {
      links.add(`net:[${statSync(path.join("/run/netns", ns)).ino}]`);
    } catch {
      // already deleted
    }
  }
  return links;
}

export interface Selector {
  /** A marker matches when equal to one of these or starting with one of these followed by "/". */
  markers: string[];
  namespaces: string[];
  /** Processes the lab spawned itself; a pid counts only while its start time matches. */
  roots: ProcRef[];
}

/** Live (non-zombie) processes the selector names, with all their descendants. Never this process or its ancestors. */
export function selectProcesses(selector: Selector): number[] {
  const procs = snapshot();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const protectedPids = new Set<number>();
  for (let pid: number | undefined = process.pid; pid && !protectedPids.has(pid); pid = byPid.get(pid)?.ppid) protectedPids.add(pid);
  const links = netnsLinks(selector.namespaces);
  const matchesMarker = (marker: string | null) => marker !== null && selector.markers.some((m) => marker === m || marker.startsWith(`${m}/`));
  const chosen = new Set<number>();
  for (const p of procs) {
    if (matchesMarker(p.marker) || (p.netns !== null && links.has(p.netns))) chosen.add(p.pid);
  }
  for (const root of selector.roots) if (byPid.get(root.pid)?.start === root.start) chosen.add(root.pid);
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const queue = [...chosen];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (!chosen.has(child)) {
        chosen.add(child);
        queue.push(child);
      }
    }
  }
  return [...chosen].filter((pid) => !protectedPids.has(pid) && !byPid.get(pid)!.zombie);
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

// ---- the teardown plan --------------------------------------------------------------------------

export type Step = { kind: "run"; file: string; args: string[] } | { kind: "sleep"; ms: number };

function namespacesOf(id: string): string[] {
  try {
    return readdirSync("/run/netns").filter((ns) => NETNS_RE.exec(ns)?.[1] === id);
  } catch {
    return [];
  }
}

function linksOf(id: string): string[] {
  return readdirSync("/sys/class/net").filter((link) => LINK_RE.exec(link)?.[1] === id);
}

/** Removes every trace of lab `id`. Each step tolerates what is already gone, so it can run twice. */
export function* teardownPlan(id: string, roots: ProcRef[]): Generator<Step, void, void> {
  const namespaces = namespacesOf(id);
  const selector: Selector = { markers: [id], namespaces, roots };
  for (let round = 0; round < 100; round++) {
    const pids = selectProcesses(selector);
    if (pids.length === 0) break;
    signalAll(pids, "SIGKILL");
    yield { kind: "sleep", ms: round < 10 ? 10 : 50 };
  }
  const links = linksOf(id);
  // Deleting one end of a veth pair deletes both; the bridge goes last.
  for (const link of links.filter((l) => l.startsWith("mntv-"))) yield { kind: "run", file: tool("ip"), args: ["link", "del", link] };
  for (const ns of namespaces) yield { kind: "run", file: tool("ip"), args: ["netns", "del", ns] };
  for (const link of links.filter((l) => l.startsWith("mntb-"))) yield { kind: "run", file: tool("ip"), args: ["link", "del", link] };
  const subnet = readOwner(id)?.subnet;
  if (subnet) yield { kind: "run", file: tool("ip"), args: ["route", "del", "blackhole", subnet, "metric", "4000"] };
  rmSync(path.join(LAB_ROOT, id), { recursive: true, force: true });
}

export async function driveAsync(plan: Iterable<Step>): Promise<void> {
  for (const step of plan) {
    if (step.kind === "sleep") await sleep(step.ms);
    else await run(step.file, step.args, { timeoutMs: 10_000 });
  }
}

export function driveSync(plan: Iterable<Step>): void {
  for (const step of plan) {
    if (step.kind === "sleep") sleepSync(step.ms);
    else runSyncQuiet(step.file, step.args);
  }
}

// ---- labs left by test processes that died (SIGKILL, power loss) -------------------------------

/** Tears down every lab whose owner process is gone; labs of live processes (parallel runs) are left alone. */
export async function sweepStaleLabs(): Promise<void> {
  const ids = new Set<string>();
  try {
    for (const entry of readdirSync(LAB_ROOT)) if (new RegExp(`^${ID}$`).test(entry)) ids.add(entry);
  } catch {
    // no lab ever ran here
  }
  try {
    for (const ns of readdirSync("/run/netns")) {
      const id = NETNS_RE.exec(ns)?.[1];
      if (id) ids.add(id);
    }
  } catch {
    // no namespaces
  }
  for (const link of readdirSync("/sys/class/net")) {
    const id = LINK_RE.exec(link)?.[1];
    if (id) ids.add(id);
  }
  for (const p of snapshot()) {
    const id = p.marker?.split("/")[0];
    if (id && new RegExp(`^${ID}$`).test(id)) ids.add(id);
  }
  for (const id of ids) {
    if (!liveLabs.has(id) && !ownerAlive(id)) await driveAsync(teardownPlan(id, []));
  }
}

// ---- labs of this process: torn down at exit and on SIGINT/SIGTERM/SIGHUP -----------------------

const liveLabs = new Map<string, () => Iterable<Step>>();
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function teardownAllSync(): void {
  for (const [id, plan] of [...liveLabs]) {
    liveLabs.delete(id);
    try {
      driveSync(plan());
    } catch {
      // best effort: the next lab's stale sweep finishes the job
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  teardownAllSync();
  // Alone, we replaced Node's default (die by the signal): restore it and re-raise. Otherwise the other listeners decide.
  const alone = process.listenerCount(signal) === 1;
  uninstallSignalHandlers();
  if (alone) process.kill(process.pid, signal);
}

function installSignalHandlers(): void {
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstallSignalHandlers(): void {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

let exitHookInstalled = false;

export function registerLiveLab(id: string, plan: () => Iterable<Step>): void {
  if (!exitHookInstalled) {
    process.on("exit", teardownAllSync);
    exitHookInstalled = true;
  }
  if (liveLabs.size === 0) installSignalHandlers();
  liveLabs.set(id, plan);
}

export function unregisterLiveLab(id: string): void {
  if (liveLabs.delete(id) && liveLabs.size === 0) uninstallSignalHandlers();
}
