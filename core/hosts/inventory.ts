// The hosts inventory (hosts.yaml): parsed with positions, checked against core/hosts/schema.ts, and
// resolved into one HostEntry per host. Every problem is reported, each as one line
// `hosts.yaml:12:7: hosts[2].port: expected a number`; the format is documented in hosts.example.yaml.
import { readFileSync } from "node:fs";
import path from "node:path";
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from "yaml";
import { ConfigError, MntError } from "../errors.ts";
import { expandHome } from "../local-path.ts";
import { FIELDS, MESSAGES, SSH_ONLY_FIELDS, didYouMean, inventorySchema, type HostSettings, type RawInventory } from "./schema.ts";

export interface HostEntry {
  /** Display name, unique in the inventory (default: the address). */
  name: string;
  /** Host name, IP or ~/.ssh/config alias, as written; a launched host's is its name. */
  address: string;
  /** The command that reaches the host instead of SSH (`launch:`), e.g. ["docker", "exec", "-i", "box", "--"]; null: SSH. */
  launch: string[] | null;
  /** Undefined when the inventory does not set it: OpenSSH config resolution applies. */
  user?: string;
  /** Undefined when the inventory does not set it: OpenSSH config resolution applies. */
  port?: number;
  /** Absolute local paths (~ expanded, relative paths resolved against the inventory's folder). */
  identityFiles: string[];
  slots: number | "auto";
  /** The command that runs Node.js on the host. */
  node: string;
  /** On the host; a leading ~ is the REMOTE home and is left unexpanded. */
  workDir: string;
  tags: string[];
  /** Jump hosts, outermost first: "[user@]host[:port]" or an alias. */
  jump: string[];
  strictHostKeyChecking: "yes" | "accept-new";
  connectTimeoutMs: number;
  /** Absolute local path; undefined = OpenSSH's known_hosts files. */
  knownHostsFile?: string;
  /** Absolute local path of an ssh_config used instead of ~/.ssh/config; undefined = the usual one. */
  sshConfigFile?: string;
  /** Where the host's entry starts in the file, 1-based. */
  position: { line: number; col: number };
}

export interface Inventory {
  /** The file as the user gave it. */
  file: string;
  hosts: HostEntry[];
}

/** Where ConfigError lived before: core/errors.ts now, so the CLI can name it without loading YAML. */
export { ConfigError };

export const HOST_DEFAULTS = {
  slots: "auto",
  node: "node",
  workDir: "~/.cache/mnt",
  strictHostKeyChecking: "yes",
  connectTimeoutMs: 10_000,
} as const;

/** Reads and parses an inventory file; throws ConfigError (code "config") when it is missing or wrong. */
export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ConfigError([`${file}: no such file`], "check the path", { cause: error });
    if (code === "EISDIR") throw new ConfigError([`${file}: is a folder, not a file`], "check the path", { cause: error });
    if (code === "EACCES") throw new ConfigError([`${file}: permission denied`], "check the file's permissions", { cause: error });
    throw new ConfigError([`${file}: cannot be read (${(error as Error).message})`], undefined, { cause: error });
  }
  return parseInventory(text, file);
}

/** Parses inventory text; `file` names it in messages and anchors relative paths. Throws ConfigError. */
export function parseInventory(text: string, file: string): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  const line = (pos: { line: number; col: number }, where: string, message: string) =>
    `${file}:${pos.line}:${pos.col}: ${where ? `${where}: ` : ""}${message}`;

  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((error) => line(at(error.pos[0]), "", firstLine(error.message))));
  }
  if (doc.contents === null) throw new ConfigError([line({ line: 1, col: 1 }, "", `the file is empty (${MESSAGES.root})`)]);

  let data: unknown;
  try {
    data = doc.toJS(); // throws on alias bombs (more than 100 alias expansions)
  } catch (error) {
    throw new ConfigError([line({ line: 1, col: 1 }, "", firstLine((error as Error).message))], undefined, { cause: error });
  }
  // An unknown key sorts before other problems at the same place: it is often why a field is "required".
  const problems: { offset: number; rank: number; text: string }[] = [];
  const report = (offset: number, where: PathKey[], message: string, rank = 1) =>
    problems.push({ offset, rank, text: line(at(offset), formatPath(where), message) });

  const result = inventorySchema.safeParse(data);
  if (!result.success) {
    const seen = new Set<string>();
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const where = [...(issue.path as PathKey[]), key];
          report(locate(doc, where, "key").offset, where, unknownField(issue.path as PathKey[], key), 0);
        }
        continue;
      }
      const where = issue.path as PathKey[];
      const id = JSON.stringify(where);
      if (seen.has(id)) continue; // the first problem with a value is enough
      seen.add(id);
      const found = locate(doc, where, "value");
      report(found.offset, where, found.missing ? MESSAGES.required : issue.message);
    }
  }
  checkUniqueNames(data, doc, report);
  checkHowReached(data, doc, report);

  if (problems.length > 0 || !result.success) {
    problems.sort((a, b) => a.offset - b.offset || a.rank - b.rank);
    throw new ConfigError(problems.map((p) => p.text));
  }
  const baseDir = path.dirname(path.resolve(file));
  return {
    file,
    hosts: result.data.hosts.map((host, i) => ({
      ...resolveHost(host, result.data.defaults ?? {}, baseDir),
      position: at(locate(doc, ["hosts", i], "value").offset),
    })),
  };
}

function resolveHost(host: RawInventory["hosts"][number], defaults: HostSettings, baseDir: string): Omit<HostEntry, "position"> {
  // A host's own value wins; lists are replaced, not merged.
  const pick = <K extends keyof HostSettings>(key: K): HostSettings[K] => (host[key] !== undefined ? host[key] : defaults[key]);
  const local = (p: string) => path.resolve(baseDir, expandHome(p));
  const entry: Omit<HostEntry, "position"> = {
    // The schema guarantees an address, or a launch command and a name.
    name: (host.name ?? host.address)!,
    address: (host.address ?? host.name)!,
    launch: host.launch ? [...host.launch] : null,
    identityFiles: (pick("identityFiles") ?? []).map(local),
    slots: pick("slots") ?? HOST_DEFAULTS.slots,
    node: pick("node") ?? HOST_DEFAULTS.node,
    workDir: pick("workDir") ?? HOST_DEFAULTS.workDir,
    tags: [...(pick("tags") ?? [])],
    jump: [...(pick("jump") ?? [])],
    strictHostKeyChecking: pick("strictHostKeyChecking") ?? HOST_DEFAULTS.strictHostKeyChecking,
    connectTimeoutMs: pick("connectTimeoutMs") ?? HOST_DEFAULTS.connectTimeoutMs,
  };
  const user = pick("user");
  const port = pick("port");
  const knownHostsFile = pick("knownHostsFile");
  const sshConfigFile = pick("sshConfigFile");
  if (user !== undefined) entry.user = user;
  if (port !== undefined) entry.port = port;
  if (knownHostsFile !== undefined) entry.knownHostsFile = local(knownHostsFile);
  if (sshConfigFile !== undefined) entry.sshConfigFile = local(sshConfigFile);
  return entry;
}

/** Names must be unique: the second (third…) host with a name already taken is the error. */
function checkUniqueNames(data: unknown, doc: Document, report: (offset: number, where: PathKey[], message: string) => void): void {
  const hosts = (data as { hosts?: unknown } | null)?.hosts;
  if (!Array.isArray(hosts)) return;
  const firstWith = new Map<string, number>();
  hosts.forEach((host: unknown, i) => {
    if (typeof host !== "object" || host === null) return;
    const { name, address } = host as { name?: unknown; address?: unknown };
    const field = name !== undefined ? "name" : "address";
    const value = name !== undefined ? name : address;
    if (typeof value !== "string" || value === "") return;
    const first = firstWith.get(value);
    if (first === undefined) return void firstWith.set(value, i);
    const where = ["hosts", i, field];
    const fix = field === "address" ? " (give one of them a name)" : "";
    report(locate(doc, where, "value").offset, where, `the name ${JSON.stringify(value)} is already used by hosts[${first}]${fix}`);
  });
}

/** A host has an address (SSH) or launch (a command), not both; with launch, a name and no SSH settings of its own. */
function checkHowReached(data: unknown, doc: Document, report: (offset: number, where: PathKey[], message: string) => void): void {
  const hosts = (data as { hosts?: unknown } | null)?.hosts;
  if (!Array.isArray(hosts)) return;
  hosts.forEach((host: unknown, i) => {
    if (typeof host !== "object" || host === null || Array.isArray(host)) return;
    const fields = host as Record<string, unknown>;
    const problem = (field: string, message: string) => report(locate(doc, ["hosts", i, field], "value").offset, ["hosts", i, field], message);
    if (fields.launch === undefined) {
      if (fields.address === undefined) problem("address", MESSAGES.addressOrLaunch);
      return;
    }
    if (fields.address !== undefined) problem("launch", MESSAGES.notBoth);
    if (fields.name === undefined) problem("name", MESSAGES.launchName);
    for (const field of SSH_ONLY_FIELDS) if (fields[field] !== undefined) problem(field, MESSAGES.sshOnly);
  });
}

function unknownField(parent: PathKey[], key: string): string {
  const context = parent.length === 0 ? "root" : parent[0] === "defaults" ? "defaults" : "host";
  if (context === "defaults" && (key === "address" || key === "name")) return "not allowed in defaults (each host sets its own)";
  const guess = didYouMean(key, FIELDS[context]);
  return guess ? `unknown field (did you mean ${guess}?)` : "unknown field";
}

type PathKey = PropertyKey;

/** `hosts[2].port`, `defaults.tags[0]`, `hosts[0]["odd key"]`. */
function formatPath(where: PathKey[]): string {
  let out = "";
  for (const key of where) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/**
 * The offset of the node at `where` (its key instead, for "key" or an empty value). When a mapping
 * lacks the key, the mapping's own offset, with `missing` set: that is where a required field goes.
 */
function locate(doc: Document, where: PathKey[], want: "key" | "value"): { offset: number; missing: boolean } {
  let node = deref(doc, doc.contents);
  let offset = node?.range?.[0] ?? 0;
  for (const [i, key] of where.entries()) {
    const last = i === where.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(key));
      if (!pair) return { offset, missing: true };
      const keyNode = pair.key as Node | null;
      const value = deref(doc, pair.value as Node | null);
      const empty = !value || (isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1]);
      if (last && (want === "key" || empty)) return { offset: keyNode?.range?.[0] ?? offset, missing: false };
      node = value;
    } else if (isSeq(node) && typeof key === "number" && key < node.items.length) {
      node = deref(doc, node.items[key] as Node | null);
    } else {
      return { offset, missing: true };
    }
    offset = node?.range?.[0] ?? offset;
  }
  return { offset, missing: false };
}

function deref(doc: Document, node: Node | null | undefined): Node | null {
  return (isAlias(node) ? (node.resolve(doc) as Node | undefined) : node) ?? null;
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0]!.trim();
}
