// Where and how to reach a host, resolved as OpenSSH would: `ssh -G` when the OpenSSH client is
// installed (so ~/.ssh/config with Include, Match and ProxyJump applies), else a parse of the
// config file. What the inventory sets explicitly wins over the config.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import SSHConfig from "ssh-config";
import { MntError } from "../../errors.ts";
import { expandHome } from "../../local-path.ts";

export interface SshTarget {
  /** The name the user gave (inventory address, alias or jump spec). */
  given: string;
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Jump hosts, outermost first, each as OpenSSH spells them ([user@]host[:port] or an alias). */
  jump: string[];
  knownHostsFiles: string[];
  /** Name the host key is recorded under instead of the host name (HostKeyAlias). */
  hostKeyAlias: string | null;
}

export interface ResolveOptions {
  user?: string;
  port?: number;
  identityFiles?: string[];
  jump?: string[];
  /** Replaces the user's ~/.ssh/config (ssh -F). */
  sshConfigFile?: string;
  /** Replaces the known_hosts files the config names. */
  knownHostsFile?: string;
}

let sshClientPresent: boolean | null = null;

export async function resolveTarget(given: string, options: ResolveOptions = {}): Promise<SshTarget> {
  const parsed = parseJumpSpec(given);
  const config = sshClientPresent === false ? null : await sshG(parsed.host, options, parsed);
  const raw = config ?? fallbackConfig(parsed.host, options);
  const identityFiles = [...(options.identityFiles ?? []), ...raw.identityFiles.map(expandHome)].filter((file, i, all) => all.indexOf(file) === i);
  return {
    given,
    hostname: raw.hostname,
    port: options.port ?? parsed.port ?? raw.port,
    user: options.user ?? parsed.user ?? raw.user,
    identityFiles,
    jump: options.jump && options.jump.length > 0 ? options.jump : raw.jump,
    knownHostsFiles: options.knownHostsFile ? [expandHome(options.knownHostsFile)] : raw.knownHostsFiles.map(expandHome),
    hostKeyAlias: raw.hostKeyAlias,
  };
}

/** What the ssh config says of a host, before the inventory's own values are laid over it. */
type RawConfig = Omit<SshTarget, "given">;

/** `user@host:port` (a ProxyJump element) or a plain host/alias. */
export function parseJumpSpec(spec: string): { host: string; user?: string; port?: number } {
  const at = spec.lastIndexOf("@");
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  let rest = at >= 0 ? spec.slice(at + 1) : spec;
  let port: number | undefined;
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(rest);
  if (bracketed) {
    rest = bracketed[1]!;
    port = Number(bracketed[2]);
  } else {
    const colon = /^([^:]+):(\d+)$/.exec(rest);
    if (colon) {
      rest = colon[1]!;
      port = Number(colon[2]);
    }
  }
  return { host: rest, user, port };
}

function sshG(host: string, options: ResolveOptions, parsed: { user?: string; port?: number }): Promise<RawConfig | null> {
  const args = ["-G"];
  if (options.sshConfigFile) args.push("-F", expandHome(options.sshConfigFile));
  const port = options.port ?? parsed.port;
  const user = options.user ?? parsed.user;
  if (port !== undefined) args.push("-p", String(port));
  if (user !== undefined) args.push("-l", user);
  args.push("--", host);
  return new Promise((resolve, reject) => {
    execFile("ssh", args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        sshClientPresent = false;
        return resolve(null);
      }
      sshClientPresent = true;
      // ssh ends its messages with \r\n: a stray \r would let the hint overwrite the line on a terminal.
      if (error) return reject(new MntError("config", `${host}: ssh -G failed: ${stderr.trim().split(/\r?\n/)[0]?.trim() || error.message}`, "check your ssh config"));
      resolve(parseSshG(stdout));
    });
  });
}

export function parseSshG(text: string): RawConfig {
  const values = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space <= 0) continue;
    const key = line.slice(0, space).toLowerCase();
    const list = values.get(key) ?? [];
    list.push(line.slice(space + 1).trim());
    values.set(key, list);
  }
  const one = (key: string) => values.get(key)?.[0];
  const jump = one("proxyjump");
  const alias = one("hostkeyalias");
  return {
    hostname: one("hostname") ?? "",
    port: Number(one("port") ?? 22),
    user: one("user") ?? os.userInfo().username,
    identityFiles: values.get("identityfile") ?? [],
    jump: jump && jump !== "none" ? jump.split(",") : [],
    knownHostsFiles: [...(one("userknownhostsfile") ?? "").split(/\s+/), ...(one("globalknownhostsfile") ?? "").split(/\s+/)].filter(Boolean),
    hostKeyAlias: alias && alias !== "none" ? alias : null,
  };
}

/** Without the OpenSSH client: the config file parsed, OpenSSH's defaults otherwise. */
function fallbackConfig(host: string, options: ResolveOptions): RawConfig {
  const file = options.sshConfigFile ? expandHome(options.sshConfigFile) : path.join(os.homedir(), ".ssh", "config");
  const computed = existsSync(file) ? (SSHConfig.parse(readFileSync(file, "utf8")).compute(host) as Record<string, string | string[]>) : {};
  // Keywords are case-insensitive (`hostname` is HostName) but ssh-config keeps them as written:
  // merge them, the first value winning as in OpenSSH, identity files adding up.
  const values = new Map<string, string | string[]>();
  for (const [key, value] of Object.entries(computed)) {
    const lower = key.toLowerCase();
    const seen = values.get(lower);
    if (seen === undefined) values.set(lower, value);
    else if (lower === "identityfile") values.set(lower, [seen, value].flat());
  }
  const get = (key: string): string | undefined => {
    const value = values.get(key.toLowerCase());
    return Array.isArray(value) ? value[0] : value;
  };
  const identity = values.get("identityfile");
  const jump = get("ProxyJump");
  const knownHosts = get("UserKnownHostsFile");
  return {
    hostname: get("HostName") ?? host,
    port: Number(get("Port") ?? 22),
    user: get("User") ?? os.userInfo().username,
    identityFiles: Array.isArray(identity) ? identity : identity ? [identity] : ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"],
    jump: jump && jump !== "none" ? jump.split(",") : [],
    knownHostsFiles: knownHosts ? knownHosts.split(/\s+/) : ["~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts"],
    hostKeyAlias: get("HostKeyAlias") ?? null,
  };
}
