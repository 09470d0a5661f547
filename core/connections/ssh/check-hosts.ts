// Every host of an inventory, checked at once: reachable, logged in, host key status, and what it
// runs (probe.ts). `mnt hosts check` prints it; `mnt deploy` and `mnt exec --hosts` go on using
// each usable host's link (an SSH HostSession, or a LaunchedHost for `launch:`) for the deploy and
// the agents.
import type { HostLink } from "../connection.ts";
import { LaunchedHost } from "../launch.ts";
import type { HostEntry } from "../../hosts/inventory.ts";
import { MntError } from "../../errors.ts";
import type { SshConnectOptions } from "./connect.ts";
import { HostSession } from "./host-session.ts";
import { probeHost, type HostFacts, type Probe, type ProbeOptions } from "./probe.ts";

export interface HostCheck {
  host: HostEntry;
  /** The host can run agents. */
  usable: boolean;
  /** "known" | "recorded" (accept-new) once the connection was made; null for a launched host (no host key). */
  hostKey: "known" | "recorded" | null;
  hostKeyFingerprint: string | null;
  facts: HostFacts | null;
  /** The identity of the host's Node.js binary (see KnownNode), and what the `after` script printed. */
  nodeId: string;
  after: Probe["after"];
  /** Why it is not usable: one line naming the host. */
  error: MntError | null;
  /** The host's link, open when usable and kept (keepOpen): the deploy and the agents use it. */
  session: HostLink | null;
  /** How it was reached: the agents connect again the same way. */
  sshOptions: SshConnectOptions;
  elapsedMs: number;
}

export interface CheckOptions {
  askPassphrase?: SshConnectOptions["askPassphrase"];
  onHostKeyRecorded?: (line: string) => void;
  /** Keep the connections of usable hosts open (for the deploy and agents); otherwise close them. */
  keepOpen: boolean;
  /** Passed to the probe (one host at a time: see checkHost). */
  known?: ProbeOptions["known"];
  after?: ProbeOptions["after"];
}

export function sshOptionsFor(host: HostEntry, extra: Pick<CheckOptions, "askPassphrase" | "onHostKeyRecorded"> = {}): SshConnectOptions {
  return {
    label: host.name,
    user: host.user,
    port: host.port,
    identityFiles: host.identityFiles,
    jump: host.jump,
    sshConfigFile: host.sshConfigFile,
    knownHostsFile: host.knownHostsFile,
    strictHostKeyChecking: host.strictHostKeyChecking,
    connectTimeoutMs: host.connectTimeoutMs,
    askPassphrase: extra.askPassphrase,
    onHostKeyRecorded: extra.onHostKeyRecorded,
  };
}

export function checkHosts(hosts: HostEntry[], options: CheckOptions): Promise<HostCheck[]> {
  return Promise.all(hosts.map((host) => checkHost(host, options)));
}

export async function checkHost(host: HostEntry, options: CheckOptions): Promise<HostCheck> {
  const started = performance.now();
  const sshOptions = sshOptionsFor(host, options);
  const check: HostCheck = { host, usable: false, hostKey: null, hostKeyFingerprint: null, facts: null, nodeId: "", after: null, error: null, session: null, sshOptions, elapsedMs: 0 };
  try {
    const connection = host.launch ? new LaunchedHost(host.name, host.launch) : new HostSession(host.address, sshOptions);
    const session = await connection.get();
    if ("hostKey" in session) {
      check.hostKey = session.hostKey;
      check.hostKeyFingerprint = session.hostKeyFingerprint;
    }
    const probe = await probeHost(session, { node: host.node, workDir: host.workDir, known: options.known, after: options.after });
    check.facts = probe.facts;
    check.nodeId = probe.nodeId;
    check.after = probe.after;
    if (check.facts.problem) {
      check.error = new MntError("infrastructure", `${host.name}: ${check.facts.problem}`);
      connection.close();
    } else {
      check.usable = true;
      if (options.keepOpen) check.session = connection;
      else connection.close();
    }
  } catch (error) {
    check.error = error instanceof MntError ? error : new MntError("infrastructure", `${host.name}: ${(error as Error).message}`);
  }
  check.elapsedMs = performance.now() - started;
  return check;
}
