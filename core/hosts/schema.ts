// The hosts.yaml schema (zod), with the human messages the inventory reports. It checks the file as
// written; core/hosts/inventory.ts locates each problem in the YAML and resolves defaults.
import * as z from "zod";

export const MESSAGES = {
  string: "expected a string",
  nonEmpty: "expected a non-empty string",
  number: "expected a number",
  port: "expected a whole number from 1 to 65535",
  slotsType: "expected a number or auto",
  slotsRange: "expected a whole number of at least 1, or auto",
  timeout: "expected a whole number of milliseconds, at least 1",
  hostKey: "expected yes or accept-new",
  stringList: "expected a list of strings",
  address: "expected a host name, IP or ~/.ssh/config alias (no spaces, not starting with -)",
  jump: "expected [user@]host[:port] or a ~/.ssh/config alias (no spaces, not starting with -)",
  localPath: "expected a path (~ and ~/ are expanded, ~user is not)",
  host: "expected a mapping with an address (or launch)",
  launch: "expected a command as a list of words, e.g. [docker, exec, -i, box, --]",
  addressOrLaunch: "required (an SSH host name or IP), or launch: a command that reaches the host",
  notBoth: "a host has an address (reached over SSH) or launch (reached by that command), not both",
  launchName: "required with launch (how the host is named in output)",
  sshOnly: "an SSH setting, not used with launch (remove it)",
  hosts: "expected a list of hosts",
  noHosts: "expected at least one host",
  defaults: "expected a mapping of host fields",
  root: "expected a mapping with a hosts list",
  required: "required",
} as const;

const string = () => z.string({ error: MESSAGES.string }).min(1, { error: MESSAGES.nonEmpty });

/** A name ssh may see as an argument: no whitespace, and no leading "-" that would read as an option. */
const sshName = (error: string) => string().regex(/^[^\s-]\S*$/, { error });

/** A path on this machine: ~ or ~/… (expanded later), absolute, or relative to the inventory file. */
const localPath = () => string().refine((p) => !/^~[^/]/.test(p), { error: MESSAGES.localPath });

const list = <T extends z.ZodType>(item: T) => z.array(item, { error: MESSAGES.stringList });

/** Every host field except address and name: what `defaults` may set. */
export const hostSettings = {
  user: string(),
  port: z.number({ error: MESSAGES.number }).int({ error: MESSAGES.port }).min(1, { error: MESSAGES.port }).max(65535, { error: MESSAGES.port }),
  identityFiles: list(localPath()),
  slots: z.union([z.literal("auto"), z.number().int({ error: MESSAGES.slotsRange }).min(1, { error: MESSAGES.slotsRange })], { error: MESSAGES.slotsType }),
  node: string(),
  workDir: string(),
  tags: list(string()),
  jump: list(sshName(MESSAGES.jump)),
  // YAML 1.2 reads `yes` as a string; a YAML 1.1 document (%YAML 1.1) reads it as true.
  strictHostKeyChecking: z.union([z.enum(["yes", "accept-new"]), z.literal(true).transform(() => "yes" as const)], { error: MESSAGES.hostKey }),
  connectTimeoutMs: z.number({ error: MESSAGES.number }).int({ error: MESSAGES.timeout }).min(1, { error: MESSAGES.timeout }),
  knownHostsFile: localPath(),
  sshConfigFile: localPath(),
};

const optionalSettings = Object.fromEntries(Object.entries(hostSettings).map(([key, schema]) => [key, schema.optional()])) as {
  [K in keyof typeof hostSettings]: z.ZodOptional<(typeof hostSettings)[K]>;
};

export const defaultsSchema = z.strictObject(optionalSettings, { error: MESSAGES.defaults });

/** Host fields that only mean something over SSH. */
export const SSH_ONLY_FIELDS = ["user", "port", "identityFiles", "jump", "strictHostKeyChecking", "connectTimeoutMs", "knownHostsFile", "sshConfigFile"] as const;

// Which of address and launch a host has, and what goes with launch, is checked by the inventory
// (checkHowReached) on the raw data: those lines are wanted even when other fields are wrong.
export const hostSchema = z.strictObject(
  {
    address: sshName(MESSAGES.address).optional(),
    name: string().optional(),
    // Only per host: it names one machine (a container, a namespace), like address does.
    launch: z.array(z.string({ error: MESSAGES.launch }).min(1, { error: MESSAGES.nonEmpty }), { error: MESSAGES.launch }).min(1, { error: MESSAGES.launch }).optional(),
    ...optionalSettings,
  },
  { error: MESSAGES.host },
);

export const inventorySchema = z.strictObject(
  {
    // `defaults:` with nothing under it (every line commented out) is no defaults.
    defaults: defaultsSchema.nullable().optional(),
    hosts: z.array(hostSchema, { error: MESSAGES.hosts }).min(1, { error: MESSAGES.noHosts }),
  },
  { error: MESSAGES.root },
);

export type HostSettings = z.output<typeof defaultsSchema>;
export type RawHost = z.output<typeof hostSchema>;
export type RawInventory = z.output<typeof inventorySchema>;

/** The keys each mapping accepts, for "unknown field (did you mean …?)". */
export const FIELDS = {
  root: Object.keys(inventorySchema.shape),
  defaults: Object.keys(defaultsSchema.shape),
  host: Object.keys(hostSchema.shape),
};

// What people write out of habit (ssh_config, Ansible), keyed by lowercase name without - and _.
const SYNONYMS: Record<string, string> = {
  host: "address",
  hostname: "address",
  ansiblehost: "address",
  username: "user",
  ansibleuser: "user",
  proxyjump: "jump",
  identityfile: "identityFiles",
  userknownhostsfile: "knownHostsFile",
  configfile: "sshConfigFile",
  cores: "slots",
  workers: "slots",
  timeout: "connectTimeoutMs",
  connecttimeout: "connectTimeoutMs",
};

/** The accepted field an unknown key most likely meant, if one is close enough. */
export function didYouMean(key: string, fields: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");
  const wanted = norm(key);
  const same = fields.find((f) => norm(f) === wanted);
  if (same) return same;
  const synonym = SYNONYMS[wanted];
  if (synonym && fields.includes(synonym)) return synonym;
  const limit = wanted.length <= 4 ? 1 : 2;
  let best: { field: string; distance: number } | undefined;
  for (const field of fields) {
    const distance = editDistance(wanted, norm(field));
    if (distance <= limit && (!best || distance < best.distance)) best = { field, distance };
  }
  return best?.field;
}

/** Levenshtein distance where swapping two neighbours counts as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
