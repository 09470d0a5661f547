// Host-key verification against OpenSSH known_hosts files: plain and hashed (|1|salt|hmac) names,
// `[host]:port` forms, wildcard patterns and negations, @revoked lines. A key is "known", "unknown"
// (no line names the host) or "changed" (lines name the host, none with this key).
import { createHash, createHmac } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface KnownHostLine {
  file: string;
  /** 1-based line number, for the "fix line N" advice. */
  line: number;
  marker: "" | "@revoked" | "@cert-authority";
  hostPatterns: string;
  keyType: string;
  /** base64 of the key blob. */
  key: string;
}

export type HostKeyStatus =
  | { status: "known"; line: KnownHostLine }
  | { status: "unknown" }
  | { status: "changed"; lines: KnownHostLine[] }
  | { status: "revoked"; line: KnownHostLine };

/** The name a host has in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** SHA256 fingerprint as OpenSSH prints it (`SHA256:` + unpadded base64). */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

export function readKnownHosts(files: string[]): KnownHostLine[] {
  const lines: KnownHostLine[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((text, index) => {
        const parsed = parseLine(text, file, index + 1);
        if (parsed) lines.push(parsed);
      });
  }
  return lines;
}

function parseLine(text: string, file: string, line: number): KnownHostLine | null {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed.startsWith("#")) return null;
  const fields = trimmed.split(/\s+/);
  let marker: KnownHostLine["marker"] = "";
  if (fields[0] === "@revoked" || fields[0] === "@cert-authority") marker = fields.shift() as KnownHostLine["marker"];
  const [hostPatterns, keyType, key] = fields;
  if (!hostPatterns || !keyType || !key) return null;
  return { file, line, marker, hostPatterns, keyType, key };
}

/** Does this known_hosts host field name `name` (already in `[host]:port` form when needed)? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    const negated = pattern.startsWith("!");
    if (wildcardMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function wildcardMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  // Every regex metacharacter but * and ? is literal, `[` and `]` of `[host]:port` included.
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return regex.test(name);
}

/**
 * Checks `keyBlob` for `host`:`port`. `aliases` are other names the host may be recorded under
 * (OpenSSH's HostKeyAlias, or the address the user typed when it differs from the resolved name).
 */
export function checkHostKey(lines: KnownHostLine[], names: string[], keyType: string, keyBlob: Buffer): HostKeyStatus {
  const key = keyBlob.toString("base64");
  const forHost = lines.filter((line) => line.marker !== "@cert-authority" && names.some((name) => hostFieldMatches(line.hostPatterns, name)));
  const revoked = lines.find((line) => line.marker === "@revoked" && line.key === key);
  if (revoked) return { status: "revoked", line: revoked };
  const same = forHost.find((line) => line.marker === "" && line.key === key && line.keyType === keyType);
  if (same) return { status: "known", line: same };
  // Lines of another key type do not make a key "changed" for OpenSSH either… unless no line of
  // this type exists and some of another do: OpenSSH then refuses too (it would be a downgrade
  // attack otherwise). We refuse in both cases: any recorded key that differs is a change.
  const others = forHost.filter((line) => line.marker === "");
  if (others.length > 0) return { status: "changed", lines: others };
  return { status: "unknown" };
}

/** Records a new key (StrictHostKeyChecking accept-new), creating the file and its folder if needed. */
export function recordHostKey(file: string, name: string, keyType: string, keyBlob: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const needsNewline = existsSync(file) && !readFileSync(file, "utf8").endsWith("\n") && readFileSync(file, "utf8").length > 0;
  appendFileSync(file, `${needsNewline ? "\n" : ""}${name} ${keyType} ${keyBlob.toString("base64")}\n`, { mode: 0o600 });
}
