// One SSH connection to a host with ssh2, the way OpenSSH would make it: the target resolved from
// the user's ssh config, host keys always verified against known_hosts, ssh-agent then identity
// files, jump hosts chained with forwardOut, keepalives on, and retries (with backoff) only for
// errors a retry can fix (refused, unreachable, timed out, DNS, dropped before the handshake). At
// most HANDSHAKES_PER_SSHD logins at once go to one sshd (handshake-gate.ts: MaxStartups).
import { existsSync, readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import ssh2, { type AnyAuthMethod, type ClientChannel, type ConnectConfig } from "ssh2";
import { MntError } from "../../errors.ts";
import { runToEnd } from "../run-channel.ts";
import { channelOpenRefused, endedWithout, keepExitStatus } from "./channel-end.ts";
import { enterHandshake } from "./handshake-gate.ts";
import { checkHostKey, fingerprint, hostFieldMatches, knownHostsName, readKnownHosts, recordHostKey, type HostKeyStatus } from "./known-hosts.ts";
import { resolveTarget, type ResolveOptions, type SshTarget } from "./resolve.ts";

// ssh2 is CommonJS: its named exports are not visible to ESM, take them off the default export.
const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

export type HostKeyPolicy = "yes" | "accept-new";

export interface SshConnectOptions extends ResolveOptions {
  /** Name shown in messages (the inventory's host name). */
  label: string;
  strictHostKeyChecking: HostKeyPolicy;
  connectTimeoutMs: number;
  /** Connection attempts for errors a retry can fix. */
  attempts?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Asks for an encrypted key's passphrase (on a TTY); absent under CI: such keys are skipped. */
  askPassphrase?: (keyFile: string) => Promise<string | null>;
  /** Told when a new host key was recorded (accept-new). */
  onHostKeyRecorded?: (line: string) => void;
}

export interface SshSession {
  target: SshTarget;
  client: Client;
  /** What happened to the host key: "known" or "recorded" (accept-new). */
  hostKey: "known" | "recorded";
  hostKeyFingerprint: string;
  exec(command: string): Promise<ClientChannel>;
  /**
   * Runs a command to its end; `input` is written to its stdin. A command that ends without an exit
   * code (killed by a signal, the connection lost, the channel closed by sshd) throws a one-line
   * MntError saying which, so `code` is always a number.
   */
  run(command: string, input?: Buffer | string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  onClose(listener: (error?: Error) => void): void;
  close(): void;
}

/** ssh2's words for a connection closed before the SSH handshake (sshd's MaxStartups drop does that). */
const DROPPED = /Connection lost before handshake/;
const RETRYABLE = new Set(["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "EPIPE"]);
const DEFAULT_HOST_KEY_ALGORITHMS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

export async function connectSsh(address: string, options: SshConnectOptions): Promise<SshSession> {
  const target = await resolveTarget(address, options);
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectChain(target, options);
    } catch (error) {
      const retry = error instanceof ConnectError && error.retryable && attempt < attempts;
      if (!retry) throw error instanceof ConnectError ? error.toMntError(attempt) : error;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
    }
  }
}

/** A failure while connecting, before it becomes the user's one-line error. */
class ConnectError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: "infrastructure" | "auth",
    readonly hint?: string,
  ) {
    super(message);
  }
  toMntError(attempts: number): MntError {
    const tries = this.retryable && attempts > 1 ? ` (${attempts} attempts)` : "";
    return new MntError(this.code, `${this.message}${tries}`, this.hint);
  }
}

async function connectChain(target: SshTarget, options: SshConnectOptions): Promise<SshSession> {
  // Jump hosts resolve through the same ssh config and known_hosts, with their own user and port.
  const shared = { sshConfigFile: options.sshConfigFile, knownHostsFile: options.knownHostsFile, identityFiles: options.identityFiles };
  const chain = [...(await Promise.all(target.jump.map((spec) => resolveTarget(spec, shared)))), target];
  const hops: Client[] = [];
  try {
    let sock: Readable | undefined;
    for (let i = 0; ; i++) {
      const hop = chain[i]!;
      if (hop === target) {
        const session = await connectOne(target, options, sock);
        // Closing the target closes the chain behind it.
        session.client.on("close", () => hops.forEach((client) => client.end()));
        return session;
      }
      const jump = await connectOne(hop, { ...options, label: `${options.label} via jump host ${hop.given}` }, sock);
      hops.push(jump.client);
      sock = await forward(jump.client, chain[i + 1]!, `${options.label} via jump host ${hop.given}`);
    }
  } catch (error) {
    hops.forEach((client) => client.end());
    throw error;
  }
}

function forward(client: Client, to: SshTarget, label: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    client.forwardOut("127.0.0.1", 0, to.hostname, to.port, (error, stream) => {
      if (error) reject(new ConnectError(`${label}: the jump host cannot reach ${to.hostname}:${to.port}: ${error.message}`, true, "infrastructure", "check the address as seen from the jump host"));
      else resolve(stream);
    });
  });
}

function connectOne(target: SshTarget, options: SshConnectOptions, sock?: Readable): Promise<SshSession> {
  const where = `${options.label} (${target.user}@${target.hostname}:${target.port})`;
  const names = hostKeyNames(target);
  const known = readKnownHosts(target.knownHostsFiles);
  return enterHandshake(`${target.hostname}:${target.port}`).then((leave) => connectGated(target, options, sock, where, names, known).finally(leave));
}

function connectGated(target: SshTarget, options: SshConnectOptions, sock: Readable | undefined, where: string, names: string[], known: ReturnType<typeof readKnownHosts>): Promise<SshSession> {
  let keyOutcome: { status: HostKeyStatus; fingerprint: string; keyType: string; blob: Buffer } | null = null;
  let recorded = false;
  const tried: string[] = [];
  const skipped: string[] = [];

  return new Promise<SshSession>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const fail = (error: ConnectError) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error);
    };
    const config: ConnectConfig = {
      host: target.hostname,
      port: target.port,
      username: target.user,
      sock,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs ?? 2000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(known, names) as never },
      hostVerifier: (blob: Buffer) => {
        const keyType = keyTypeOf(blob);
        const status = checkHostKey(known, names, keyType, blob);
        keyOutcome = { status, fingerprint: fingerprint(blob), keyType, blob };
        if (status.status === "known") return true;
        if (status.status === "unknown" && options.strictHostKeyChecking === "accept-new") {
          const file = target.knownHostsFiles[0];
          if (!file) return false;
          recordHostKey(file, names[0]!, keyType, blob);
          recorded = true;
          options.onHostKeyRecorded?.(`${names[0]} ${keyType} ${fingerprint(blob)} → ${file}`);
          return true;
        }
        return false;
      },
      authHandler: authMethods(target, options, tried, skipped) as never,
    };
    client.on("ready", () => {
      if (settled) return;
      settled = true;
      client.setNoDelay(true);
      resolve(makeSession(client, target, recorded ? "recorded" : "known", keyOutcome?.fingerprint ?? "", options.label));
    });
    client.on("error", (error: Error & { level?: string; code?: string }) => {
      if (settled) return;
      if (keyOutcome && keyOutcome.status.status !== "known" && !recorded) return fail(hostKeyError(where, target, names, keyOutcome));
      if (error.level === "client-authentication") {
        const what = tried.length > 0 ? tried.join(", ") : "no key";
        const hint = skipped.length > 0 ? `${skipped.join("; ")}` : `check the user, and that one of these keys is in ~${target.user}/.ssh/authorized_keys there`;
        return fail(new ConnectError(`${where}: authentication refused (tried ${what})`, false, "auth", hint));
      }
      const retryable = RETRYABLE.has(error.code ?? "") || error.level === "client-timeout" || /Timed out while waiting for handshake/.test(error.message) || DROPPED.test(error.message);
      const reason = error.code ? `${error.code}${error.message.includes(error.code) ? "" : ` ${error.message}`}` : error.message;
      // sshd closes a connection it will not serve before sending its banner: MaxStartups, most often.
      const hint = DROPPED.test(error.message) ? "sshd dropped it before the handshake: too many logins at once there (MaxStartups in its sshd_config), or a TCP wrapper / firewall refusing this address" : "check the address and port, and that sshd runs there";
      fail(new ConnectError(`${where}: cannot connect: ${reason.replace(/^connect /, "")}`, retryable, "infrastructure", hint));
    });
    client.on("close", () => fail(new ConnectError(`${where}: the connection closed during the handshake`, true, "infrastructure", "check that sshd accepts connections there")));
    try {
      client.connect(config);
    } catch (error) {
      fail(new ConnectError(`${where}: ${(error as Error).message}`, false, "infrastructure"));
    }
  });
}

function hostKeyError(where: string, target: SshTarget, names: string[], outcome: { status: HostKeyStatus; fingerprint: string; keyType: string }): ConnectError {
  const { status } = outcome;
  if (status.status === "changed") {
    const line = status.lines[0]!;
    const old = fingerprint(Buffer.from(line.key, "base64"));
    return new ConnectError(
      `${where}: HOST KEY CHANGED: the host offers ${outcome.keyType} ${outcome.fingerprint}, ${line.file}:${line.line} has ${line.keyType} ${old}; refused (it may be an attack)`,
      false,
      "auth",
      `if the host was reinstalled, check the new fingerprint with its admin, then remove the old line: ssh-keygen -R '${names[0]}' -f ${line.file}`,
    );
  }
  if (status.status === "revoked") {
    return new ConnectError(`${where}: the host key ${outcome.fingerprint} is marked @revoked in ${status.line.file}:${status.line.line}; refused`, false, "auth");
  }
  const files = target.knownHostsFiles.join(", ") || "no known_hosts file";
  return new ConnectError(
    `${where}: host key ${outcome.keyType} ${outcome.fingerprint} is not in ${files}; refused under strictHostKeyChecking yes`,
    false,
    "auth",
    `check the fingerprint with the host's admin, then record it by logging in once with ssh (ssh${target.knownHostsFiles[0] ? ` -o UserKnownHostsFile=${target.knownHostsFiles[0]}` : ""} -p ${target.port} ${target.user}@${target.hostname}), or set strictHostKeyChecking: accept-new`,
  );
}

/** The names a host key may be recorded under, the one to record first. */
function hostKeyNames(target: SshTarget): string[] {
  // OpenSSH records and looks up a HostKeyAlias as it is, whatever the port; `[alias]:port` is
  // still recognised (lines earlier versions of mnt recorded).
  if (target.hostKeyAlias) return [target.hostKeyAlias, knownHostsName(target.hostKeyAlias, target.port)];
  return [knownHostsName(target.hostname, target.port)];
}

/** Host key algorithms with the types already recorded for this host first, as OpenSSH orders them. */
function preferredHostKeyAlgorithms(known: ReturnType<typeof readKnownHosts>, names: string[]): string[] {
  const recorded = new Set<string>();
  for (const line of known) {
    if (line.marker !== "" || !names.some((name) => hostFieldMatches(line.hostPatterns, name))) continue;
    if (line.keyType === "ssh-rsa") ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"].forEach((a) => recorded.add(a));
    else recorded.add(line.keyType);
  }
  return [...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => recorded.has(a)), ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !recorded.has(a))];
}

/** The key type named inside an SSH public key blob (a length-prefixed string). */
function keyTypeOf(blob: Buffer): string {
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** ssh-agent first (when SSH_AUTH_SOCK is set), then each identity file that exists, in order. */
function authMethods(target: SshTarget, options: SshConnectOptions, tried: string[], skipped: string[]) {
  const queue: Array<() => Promise<AnyAuthMethod | null>> = [];
  const agentSocket = process.env.SSH_AUTH_SOCK;
  if (agentSocket) {
    queue.push(async () => {
      tried.push("ssh-agent");
      return { type: "agent", username: target.user, agent: agentSocket };
    });
  }
  for (const file of target.identityFiles) {
    queue.push(async () => {
      if (!existsSync(file)) {
        // OpenSSH's default identity files are often absent; a key the inventory names is a typo.
        if (options.identityFiles?.includes(file)) skipped.push(`${file}: no such file`);
        return null;
      }
      const data = readFileSync(file);
      let parsed = utils.parseKey(data);
      let passphrase: string | undefined;
      if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
        const answer = options.askPassphrase ? await options.askPassphrase(file) : null;
        if (answer === null) {
          skipped.push(`${file} is encrypted and there is no terminal to ask its passphrase: add it to ssh-agent (ssh-add ${file}) before running mnt`);
          return null;
        }
        passphrase = answer;
        parsed = utils.parseKey(data, answer);
      }
      if (parsed instanceof Error) {
        skipped.push(`${file}: ${parsed.message}`);
        return null;
      }
      tried.push(file);
      return { type: "publickey", username: target.user, key: data, passphrase };
    });
  }
  return (_left: unknown, _partial: boolean, next: (method: AnyAuthMethod | false) => void) => {
    const step = (): void => {
      const method = queue.shift();
      if (!method) return next(false);
      method().then((found) => (found ? next(found) : step()), () => step());
    };
    step();
  };
}

/** Exported for tests (a fake ssh2 Client); everyone else gets sessions from connectSsh. */
export function makeSession(client: Client, target: SshTarget, hostKey: "known" | "recorded", hostKeyFingerprint: string, label = target.given ?? target.hostname): SshSession {
  const closeListeners: Array<(error?: Error) => void> = [];
  let closed = false;
  let lastError: Error | undefined;
  client.on("error", (error) => (lastError = error));
  client.on("close", () => {
    closed = true;
    for (const listener of closeListeners) listener(lastError);
  });
  const exec = (command: string) =>
    new Promise<ClientChannel>((resolve, reject) => {
      if (closed) return reject(new MntError("infrastructure", `${label}: the SSH connection is closed${lastError ? ` (${lastError.message})` : ""}`));
      client.exec(command, (error, channel) => {
        if (error) return reject(channelOpenRefused(label, error));
        // Here, in ssh2's callback: the rest of this read may already carry the command's exit.
        keepExitStatus(channel);
        resolve(channel);
      });
    });
  return {
    target,
    client,
    hostKey,
    hostKeyFingerprint,
    exec,
    async run(command, input) {
      const ended = await runToEnd(await exec(command), input);
      if (ended.code !== null) return { code: ended.code, stdout: ended.stdout, stderr: ended.stderr };
      // A dropped connection closes its channels before the client says so: look a turn later.
      await new Promise((resolve) => setImmediate(resolve));
      throw endedWithout({ label, signal: ended.signal, connectionLost: closed || (client as unknown as { _sock?: { destroyed?: boolean } })._sock?.destroyed === true, connectionError: lastError });
    },
    onClose: (listener) => {
      if (closed) queueMicrotask(() => listener(lastError));
      else closeListeners.push(listener);
    },
    close: () => client.end(),
  };
}
