// The test lab: real OpenSSH sshd hosts on this machine (recipes in /work/shared/LAB.md).
//
//   const lab = await startNetnsLab(3);        // or startLoopbackLab(3)
//   after(() => lab.stop());
//   await lab.ssh(lab.hosts[0]!, "hostname");  // h1
//   lab.writeHostsYaml(file);                   // for `mnt exec --hosts file`
//
//   // Hosts unlike this machine: an arm64 one (qemu), one without rsync, one without Node.js.
//   const lab = await startNetnsLab(3, { hosts: { h1: { arch: "arm64" }, h2: { rsync: false }, h3: { node: false } } });
//   lab.hosts[0]!.machine;                      // "aarch64"; also arch, emulated, node, rsync
//   path.join(lab.sharedDir, "work");           // the same folder on every host, like an NFS home
//
// Loopback hosts are sshd processes on 127.0.0.1 (free ports) sharing this machine's file system.
// Netns hosts each have a network namespace on a private bridge (10.77.X.0/24, port 22), their own
// hostname, /root and /tmp, and can be cut off, paused and resumed. Both need root. What makes a
// netns host lack a command or emulate a CPU is in host-fs.ts; emulated hosts run (sshd and all)
// in a user namespace of their own, the owner of their binfmt_misc instance.
// stop() removes every process, namespace, link, route and file the lab made; an 'exit' hook does
// the same synchronously if a test run dies first, and the next lab sweeps up after a SIGKILLed run.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { EMULATIONS, requireEmulation, type EmulatedArch } from "./emulation.ts";
import { fingerprint, hostStartScript, hostsYaml, knownHostsLine, sshConfig, sshdConfig } from "./files.ts";
import { foreignNode } from "./foreign-node.ts";
import { planHostFs } from "./host-fs.ts";
import { traitsOf, validateNetnsLabOptions, type HostTraits, type NetnsHostOptions, type NetnsLabOptions } from "./host-options.ts";
import { run, runChecked, sleep, type CommandResult, type RunOptions } from "./run.ts";
import {
  claimLabDir,
  driveAsync,
  names,
  registerLiveLab,
  selectProcesses,
  signalAll,
  startTime,
  sweepStaleLabs,
  teardownPlan,
  unregisterLiveLab,
  writeOwner,
  type ProcRef,
} from "./teardown.ts";
import { requireLabTools, tool } from "./tools.ts";

export { requireLabTools } from "./tools.ts";
export type { CommandResult } from "./run.ts";
export type { EmulatedArch } from "./emulation.ts";
export type { HostTraits, NetnsHostOptions, NetnsLabOptions } from "./host-options.ts";

/** A host, and what it is (arch, machine, emulated, node, rsync: see HostTraits). */
export interface LabHost extends HostTraits {
  /** Also its ssh_config alias (h1, h2, …) and, on netns hosts, its hostname. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** `SHA256:…` as OpenSSH prints it. */
  hostKeyFingerprint: string;
  /** The host key's .pub line. */
  hostPublicKey: string;
  /** The host's network namespace (netns labs only). */
  netns?: string;
}

export interface SshOptions extends Omit<RunOptions, "env"> {
  /** Extra ssh arguments before the host, e.g. ["-o", "ConnectTimeout=2"]. */
  args?: string[];
}

export interface HostsYamlExtra {
  /** Merged over the lab's defaults (user, identityFiles, knownHostsFile, strictHostKeyChecking). */
  defaults?: Record<string, unknown>;
  /** Fields for single hosts, keyed by host name (h1, …). */
  perHost?: Record<string, Record<string, unknown>>;
  /** Only these hosts, by name (default: every host of the lab). */
  only?: string[];
}

export interface Lab {
  kind: "loopback" | "netns";
  /** The state folder (keys, configs, logs); removed by stop(). */
  dir: string;
  /** A folder (in dir) every host sees at this same path, writable by all: give hosts one workDir, as on an NFS home. */
  sharedDir: string;
  hosts: LabHost[];
  /** Private key (ed25519, no passphrase) authorized for every user on every host. */
  clientKey: string;
  /** Written from the generated host keys, never from ssh-keyscan. */
  knownHostsFile: string;
  /** One `Host hN` block per host, for `ssh -F`. */
  sshConfigFile: string;
  /** Netns labs: the bridge and its /24. */
  bridge?: string;
  subnet?: string;
  /** A hosts.yaml (format of hosts.example.yaml) naming every host by address and port. */
  writeHostsYaml(file: string, extra?: HostsYamlExtra): void;
  /** Runs `command` on the host with the OpenSSH client and the lab's ssh_config. */
  ssh(host: LabHost, command: string, options?: SshOptions): Promise<CommandResult>;
  /** Netns only: runs argv in the host's network namespace, and while its sshd runs, in its mount and UTS namespaces (and an emulated host's user namespace) too. */
  inNamespace(host: LabHost, command: string[], options?: Omit<RunOptions, "env">): Promise<CommandResult>;
  /** Netns only: the host's eth0 down (nothing gets through, no RST) / up again. */
  cut(host: LabHost): Promise<void>;
  restore(host: LabHost): Promise<void>;
  /** SIGSTOP / SIGCONT every process of the host (its namespace's, or on loopback its sshd and sessions). */
  pause(host: LabHost): Promise<void>;
  resume(host: LabHost): Promise<void>;
  /** Kills every process the lab started or that runs on its hosts, removes namespaces, links, route and dir. Idempotent. */
  stop(): Promise<void>;
}

const MAX_HOSTS = 200;
const READY_TIMEOUT_MS = 10_000;

interface HostState {
  host: LabHost;
  dir: string;
  marker: string;
  sshd: ProcRef;
}

interface LabState {
  kind: Lab["kind"];
  id: string;
  dir: string;
  clientKey: string;
  hosts: HostState[];
  bridge?: string;
  subnet?: string;
  sshdOverrides?: Record<string, string>;
}

/** uid_map/gid_map of an emulated host's user namespace: every id is itself, so sshd's privilege separation user exists there. */
const IDENTITY_MAP = "0 0 4294967295\n";
/** sshd runs as root of the host's user namespace, which does not own the network namespace (ip netns add made it): without this it cannot bind port 22. */
const LOW_PORTS_FOR_ALL = 'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && exec "$@"';
/**
 * Only a process outside a user namespace can map every id into it: mapAllIds does, and this waits
 * for it. The start script must be exec'd after the map: a program exec'd while root is unmapped
 * gets no capabilities in the namespace. (10 s: then the lab process is gone, nobody waits for us.)
 */
const WAIT_FOR_ID_MAP = 'i=0; until read -r map </proc/self/uid_map && [ -n "$map" ]; do i=$((i + 1)); [ "$i" -le 1000 ] || exit 70; sleep 0.01; done; exec "$@"';

// ---- the two variants ---------------------------------------------------------------------------

export interface LoopbackLabOptions {
  /** sshd_config keywords set otherwise on every host, e.g. `{ MaxStartups: "10:30:100" }` (sshd's default) to test against it. */
  sshd?: Record<string, string>;
}

export async function startLoopbackLab(count: number, options: LoopbackLabOptions = {}): Promise<Lab> {
  const unknown = Object.keys(options ?? {}).filter((key) => key !== "sshd");
  if (unknown.length > 0) throw new TypeError(`startLoopbackLab options: unknown option ${unknown.join(", ")} (there is only sshd)`);
  return startLab("loopback", count, async (state) => {
    state.sshdOverrides = options.sshd;
    state.hosts = await allSettled(range(count).map((i) => startLoopbackHost(state, i)));
  });
}

export async function startNetnsLab(count: number, options: NetnsLabOptions = {}): Promise<Lab> {
  requireCount(count);
  const hostOptions = validateNetnsLabOptions(count, options);
  const arches = new Set([...hostOptions.values()].flatMap((host) => (host.arch ? [host.arch] : [])));
  requireEmulation(arches);
  // Before the lab exists: a failed download leaves nothing to tear down.
  const nodes = new Map<EmulatedArch, string>();
  for (const arch of arches) nodes.set(arch, await foreignNode(EMULATIONS[arch]));
  return startLab("netns", count, async (state) => {
    const third = await claimSubnet();
    state.subnet = `10.77.${third}.0/24`;
    state.bridge = names.bridge(state.id);
    writeOwner(state.id, { subnet: state.subnet });
    const rootBatch = [`link add ${state.bridge} type bridge`, `addr add 10.77.${third}.1/24 dev ${state.bridge}`, `link set ${state.bridge} up`];
    for (const i of range(count)) {
      const ns = names.netns(state.id, i);
      const veth = names.veth(state.id, i);
      rootBatch.push(`netns add ${ns}`, `link add ${veth} type veth peer name eth0 netns ${ns}`, `link set ${veth} master ${state.bridge} up`);
    }
    await runChecked(tool("ip"), ["-batch", "-"], { input: `${rootBatch.join("\n")}\n` });
    state.hosts = await allSettled(
      range(count).map((i) => {
        const host = hostOptions.get(`h${i}`) ?? {};
        return startNetnsHost(state, i, `10.77.${third}.${10 + i}`, host, host.arch ? nodes.get(host.arch)! : null);
      }),
    );
  });
}

function requireCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new RangeError(`count must be a whole number from 1 to ${MAX_HOSTS}, got ${count}`);
}

async function startLab(kind: Lab["kind"], count: number, startHosts: (state: LabState) => Promise<void>): Promise<Lab> {
  requireCount(count);
  requireLabTools();
  await sweepStaleLabs();
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const { id, dir } = claimLabDir();
  const state: LabState = { kind, id, dir, clientKey: path.join(dir, "client_ed25519"), hosts: [] };
  // Registered before anything exists, so a failure (or exit) from here on leaves nothing behind.
  registerLiveLab(id, () => teardownPlan(id, state.hosts.map((h) => h.sshd)));
  try {
    await keygen(state.clientKey, `mnt-lab-${id}-client`);
    writeFileSync(path.join(dir, "authorized_keys"), readFileSync(`${state.clientKey}.pub`));
    mkdirSync(sharedDirOf(state));
    // Sticky and writable by all, like /tmp: any user of any host may keep a work folder there.
    chmodSync(sharedDirOf(state), 0o1777);
    await startHosts(state);
    writeClientFiles(state);
    return makeLab(state);
  } catch (error) {
    await driveAsync(teardownPlan(id, state.hosts.map((h) => h.sshd)));
    unregisterLiveLab(id);
    throw error;
  }
}

async function startLoopbackHost(state: LabState, index: number): Promise<HostState> {
  const name = `h${index}`;
  const hostDir = await prepareHostDir(state, name);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(path.join(hostDir, "sshd_config"), sshdConfigFor(state, hostDir, name, `127.0.0.1:${port}`));
    const started = await startSshd([tool("/usr/sbin/sshd"), ...sshdArgs(hostDir)], hostDir, names.marker(state.id, name));
    if (started.kind === "up") return hostState(hostDir, name, "127.0.0.1", port, started.sshd, names.marker(state.id, name), traitsOf());
    // Another process took the port between our probe and sshd's bind: take another.
    if (!/Address already in use/.test(started.log) || attempt === 5) throw sshdFailed(name, started);
  }
}

async function startNetnsHost(state: LabState, index: number, address: string, options: NetnsHostOptions, node: string | null): Promise<HostState> {
  const name = `h${index}`;
  const ns = names.netns(state.id, index);
  const hostDir = await prepareHostDir(state, name);
  mkdirSync(path.join(hostDir, "root"), { mode: 0o700 });
  mkdirSync(path.join(hostDir, "tmp"), { mode: 0o1777 });
  await runChecked(tool("ip"), ["-n", ns, "-batch", "-"], { input: `link set lo up\naddr add ${address}/24 dev eth0\nlink set eth0 up\n` });
  writeFileSync(path.join(hostDir, "sshd_config"), sshdConfigFor(state, hostDir, name, "0.0.0.0:22"));
  const emulated = options.arch !== undefined;
  const script = path.join(hostDir, "start.sh");
  const mounts = await planHostFs(hostDir, options, node);
  const exec = [tool("/usr/sbin/sshd"), ...sshdArgs(hostDir)];
  writeFileSync(script, hostStartScript({ hostname: name, log: path.join(hostDir, "sshd.log"), mounts, mount: tool("mount"), exec }), { mode: 0o755 });
  // ip netns exec gives it a mount namespace of its own: its mounts are this host's alone. An
  // emulated host gets a user namespace too, which alone may own a binfmt_misc instance.
  // unshare without --fork and every `exec` keep one pid: the child we spawn is sshd itself.
  const inNetns = [tool("ip"), "netns", "exec", ns];
  const inUserNs = [tool("unshare"), "--user", "--mount", "--uts", "--propagation", "private", "--", tool("sh"), "-c", WAIT_FOR_ID_MAP, "sh"];
  const argv = emulated
    ? [...inNetns, tool("sh"), "-c", LOW_PORTS_FOR_ALL, "sh", ...inUserNs, tool("sh"), script]
    : [...inNetns, tool("unshare"), "--uts", "--", tool("sh"), script];
  const started = await startSshd(argv, hostDir, names.marker(state.id, name), emulated ? mapAllIds : undefined);
  if (started.kind !== "up") throw sshdFailed(name, started);
  const host = hostState(hostDir, name, address, 22, started.sshd, names.marker(state.id, name), traitsOf(options));
  host.host.netns = ns;
  return host;
}

/** Maps every uid and gid into the user namespace `pid` is about to enter (WAIT_FOR_ID_MAP waits for it). */
async function mapAllIds(pid: number): Promise<void> {
  const ours = readlinkSync("/proc/self/ns/user");
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const theirs = userNamespace(pid);
    // Gone: startSshd reports its exit and log.
    if (theirs === null) return;
    if (theirs !== ours) break;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not enter its user namespace within ${READY_TIMEOUT_MS} ms`);
    await sleep(5);
  }
  // gid_map first: the script goes on as soon as uid_map is written.
  writeFileSync(`/proc/${pid}/gid_map`, IDENTITY_MAP);
  writeFileSync(`/proc/${pid}/uid_map`, IDENTITY_MAP);
}

function userNamespace(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`);
  } catch {
    return null;
  }
}

function sharedDirOf(state: LabState): string {
  return path.join(state.dir, "shared");
}

async function prepareHostDir(state: LabState, name: string): Promise<string> {
  const hostDir = path.join(state.dir, name);
  mkdirSync(hostDir, { mode: 0o755 });
  await keygen(path.join(hostDir, "ssh_host_ed25519_key"), `mnt-lab-${state.id}-${name}`);
  return hostDir;
}

function sshdConfigFor(state: LabState, hostDir: string, name: string, listen: string): string {
  return sshdConfig({
    listen,
    hostKey: path.join(hostDir, "ssh_host_ed25519_key"),
    pidFile: path.join(hostDir, "sshd.pid"),
    authorizedKeysFile: path.join(state.dir, "authorized_keys"),
    marker: names.marker(state.id, name),
    overrides: state.sshdOverrides,
  });
}

/** -D: sshd stays the process we spawned (its pid is known, its exit is seen); -E: log to a file. */
function sshdArgs(hostDir: string): string[] {
  return ["-D", "-f", path.join(hostDir, "sshd_config"), "-E", path.join(hostDir, "sshd.log")];
}

function hostState(hostDir: string, name: string, address: string, port: number, sshd: ProcRef, marker: string, traits: HostTraits): HostState {
  const hostPublicKey = readFileSync(path.join(hostDir, "ssh_host_ed25519_key.pub"), "utf8").trim();
  return {
    host: { name, address, port, user: "root", hostKeyFingerprint: fingerprint(hostPublicKey), hostPublicKey, ...traits },
    dir: hostDir,
    marker,
    sshd,
  };
}

// ---- sshd ---------------------------------------------------------------------------------------

type SshdStart = { kind: "up"; sshd: ProcRef } | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null; log: string };

/**
 * Spawns argv (which ends in exec'ing sshd) and waits for "Server listening" in its log, or its exit.
 * `afterSpawn` does what the child waits for from outside (mapping ids into its user namespace).
 */
async function startSshd(argv: string[], hostDir: string, marker: string, afterSpawn?: (pid: number) => Promise<void>): Promise<SshdStart> {
  const log = path.join(hostDir, "sshd.log");
  rmSync(log, { force: true });
  const child = spawn(argv[0]!, argv.slice(1), { stdio: "ignore", env: { ...process.env, MARIONETTE_LAB: marker } });
  // The lab's stop() (or the exit hook) ends it; it must not keep the test process alive by itself.
  child.unref();
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  child.on("error", (error) => (spawnError = error));
  if (afterSpawn && child.pid !== undefined) {
    try {
      await afterSpawn(child.pid);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw spawnError;
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    if (/Server listening on/.test(text) && child.pid !== undefined) {
      const start = startTime(child.pid);
      if (start !== null) return { kind: "up", sshd: { pid: child.pid, start } };
    }
    if (exited) {
      const { code, signal } = exited;
      return { kind: "exited", code, signal, log: text };
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      return { kind: "exited", code: null, signal: null, log: `${text}\n[lab: not listening after ${READY_TIMEOUT_MS} ms]` };
    }
    await sleep(10);
  }
}

function sshdFailed(name: string, started: Extract<SshdStart, { kind: "exited" }>): Error {
  const how = started.signal ? `signal ${started.signal}` : `exit code ${started.code}`;
  return new Error(`sshd of lab host ${name} did not start (${how}); its log:\n${started.log.trim()}`);
}

// ---- keys, ports, subnets -----------------------------------------------------------------------

async function keygen(file: string, comment: string): Promise<void> {
  await runChecked(tool("ssh-keygen"), ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}

/** A port the OS considers free right now (sshd's bind may still lose a race: the caller retries). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Claims 10.77.X.0/24 for this lab: the first X (from a random start) that overlaps no route or
 * address of the machine, taken by adding the lab's blackhole route, which `ip route add` refuses
 * to add twice, so parallel labs never share a subnet. While the bridge exists its connected route
 * wins; once it is gone, stray lab packets die in the blackhole instead of leaving by the default route.
 */
async function claimSubnet(): Promise<number> {
  const taken = await machinePrefixes();
  const first = Math.floor(Math.random() * 256);
  for (let k = 0; k < 256; k++) {
    const third = (first + k) % 256;
    const candidate = { net: ipv4(`10.77.${third}.0`), bits: 24 };
    if (taken.some((prefix) => overlaps(prefix, candidate))) continue;
    const result = await run(tool("ip"), ["route", "add", "blackhole", `10.77.${third}.0/24`, "metric", "4000"]);
    if (result.code === 0) return third;
    if (!/File exists/.test(result.stderr)) throw new Error(`ip route add blackhole 10.77.${third}.0/24 failed: ${result.stderr.trim()}`);
  }
  throw new Error("no free /24 in 10.77.0.0/16 for a netns lab");
}

async function machinePrefixes(): Promise<Array<{ net: number; bits: number }>> {
  const routes = await runChecked(tool("ip"), ["-4", "-o", "route", "show", "table", "all"]);
  const addresses = await runChecked(tool("ip"), ["-4", "-o", "addr", "show"]);
  const prefixes: string[] = [];
  const TYPES = new Set(["unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat", "anycast"]);
  for (const line of routes.split("\n")) {
    const words = line.trim().split(/\s+/);
    const dest = TYPES.has(words[0]!) ? words[1] : words[0];
    if (dest && dest !== "default") prefixes.push(dest);
  }
  for (const match of addresses.matchAll(/\binet (\S+)/g)) prefixes.push(match[1]!);
  return prefixes.flatMap((text) => {
    const [address, bits] = text.split("/");
    return /^\d+\.\d+\.\d+\.\d+$/.test(address!) ? [{ net: ipv4(address!), bits: bits === undefined ? 32 : Number(bits) }] : [];
  });
}

function ipv4(text: string): number {
  return text.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
}

function overlaps(a: { net: number; bits: number }, b: { net: number; bits: number }): boolean {
  const bits = Math.min(a.bits, b.bits);
  const size = 2 ** (32 - bits);
  return Math.floor(a.net / size) === Math.floor(b.net / size);
}

// ---- client side --------------------------------------------------------------------------------

function writeClientFiles(state: LabState): void {
  const hosts = state.hosts.map((h) => h.host);
  writeFileSync(path.join(state.dir, "known_hosts"), hosts.map((h) => `${knownHostsLine(h.address, h.port, h.hostPublicKey)}\n`).join(""));
  writeFileSync(path.join(state.dir, "ssh_config"), sshConfig(hosts, state.clientKey, path.join(state.dir, "known_hosts")));
}

function makeLab(state: LabState): Lab {
  const knownHostsFile = path.join(state.dir, "known_hosts");
  const sshConfigFile = path.join(state.dir, "ssh_config");
  const hosts = state.hosts.map((h) => h.host);
  const stateOf = (host: LabHost): HostState => {
    const found = state.hosts.find((h) => h.host.name === host.name);
    if (!found) throw new Error(`${host.name} is not a host of this lab (${hosts.map((h) => h.name).join(", ")})`);
    return found;
  };
  const netnsOf = (host: LabHost, what: string): string => {
    const ns = stateOf(host).host.netns;
    if (!ns) throw new Error(`${what} needs a netns lab (startNetnsLab); ${host.name} is a loopback host`);
    return ns;
  };
  const hostProcesses = (host: LabHost): number[] => {
    const h = stateOf(host);
    return selectProcesses({ markers: [h.marker], namespaces: h.host.netns ? [h.host.netns] : [], roots: [h.sshd] });
  };
  let stopping: Promise<void> | null = null;

  return {
    kind: state.kind,
    dir: state.dir,
    sharedDir: sharedDirOf(state),
    hosts,
    clientKey: state.clientKey,
    knownHostsFile,
    sshConfigFile,
    bridge: state.bridge,
    subnet: state.subnet,

    writeHostsYaml(file, extra = {}) {
      const unknown = Object.keys(extra.perHost ?? {}).filter((name) => !hosts.some((h) => h.name === name));
      if (unknown.length > 0) throw new Error(`writeHostsYaml: perHost names no host of this lab: ${unknown.join(", ")}`);
      const notHosts = (extra.only ?? []).filter((name) => !hosts.some((h) => h.name === name));
      if (notHosts.length > 0) throw new Error(`writeHostsYaml: only names no host of this lab: ${notHosts.join(", ")}`);
      const text = hostsYaml({
        kind: state.kind,
        defaults: { user: "root", identityFiles: [state.clientKey], knownHostsFile, strictHostKeyChecking: "yes", ...extra.defaults },
        hosts: hosts.filter((h) => !extra.only || extra.only.includes(h.name)).map((h) => ({ name: h.name, address: h.address, port: h.port, ...extra.perHost?.[h.name] })),
      });
      writeFileSync(file, text);
    },

    ssh(host, command, options = {}) {
      const { args = [], ...runOptions } = options;
      return run(tool("ssh"), ["-F", sshConfigFile, ...args, stateOf(host).host.name, command], runOptions);
    },

    inNamespace(host, command, options = {}) {
      const ns = netnsOf(host, "inNamespace");
      const h = stateOf(host);
      const env = { ...process.env, MARIONETTE_LAB: h.marker };
      const sshdUp = startTime(h.sshd.pid) === h.sshd.start;
      // An emulated host's programs run only in its user namespace (its binfmt_misc instance is there).
      const user = h.host.emulated ? ["-U"] : [];
      const argv = sshdUp
        ? [tool("nsenter"), "-t", String(h.sshd.pid), ...user, "-n", "-m", "-u", "--", ...command]
        : [tool("ip"), "netns", "exec", ns, ...command];
      return run(argv[0]!, argv.slice(1), { ...options, env });
    },

    async cut(host) {
      await runChecked(tool("ip"), ["-n", netnsOf(host, "cut"), "link", "set", "eth0", "down"]);
    },

    async restore(host) {
      await runChecked(tool("ip"), ["-n", netnsOf(host, "restore"), "link", "set", "eth0", "up"]);
    },

    async pause(host) {
      signalAll(hostProcesses(host), "SIGSTOP");
    },

    async resume(host) {
      signalAll(hostProcesses(host), "SIGCONT");
    },

    stop() {
      stopping ??= driveAsync(teardownPlan(state.id, state.hosts.map((h) => h.sshd))).finally(() => unregisterLiveLab(state.id));
      return stopping;
    },
  };
}

/** Like Promise.all, but settles only when every host is done starting, so a failure's teardown misses no late sshd. */
async function allSettled<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}
