// `mnt hosts check hosts.yaml`: every host at once — reachable, logged in, host key, arch, OS,
// Node.js, cores, free disk in the work folder, rsync. Exit 0 when every host is usable.
import type { HostsCheckArgs } from "./hosts-check-flags.ts";
import { checkHosts, type HostCheck } from "../../core/connections/ssh/check-hosts.ts";
import type { HostFacts } from "../../core/connections/ssh/probe.ts";
import { loadInventory } from "../../core/hosts/inventory.ts";
import { ExitCode } from "../exit-codes.ts";
import { formatBytes } from "../format.ts";
import { terminalPassphrasePrompt } from "../passphrase.ts";

export async function hostsCheckCommand(args: HostsCheckArgs): Promise<number> {
  const inventory = loadInventory(args.file);
  const checks = await checkHosts(inventory.hosts, {
    keepOpen: false,
    askPassphrase: terminalPassphrasePrompt(),
    onHostKeyRecorded: (line) => process.stderr.write(`[mnt] recorded a new host key: ${line}\n`),
  });
  const ok = checks.every((check) => check.usable);
  if (args.json) {
    process.stdout.write(JSON.stringify({ ok, file: inventory.file, hosts: checks.map(checkJson) }) + "\n");
  } else {
    process.stdout.write(renderTable(checks) + "\n");
    for (const check of checks) if (check.error) process.stderr.write(`mnt: ${check.error.message}\n`);
  }
  return ok ? ExitCode.ok : ExitCode.unavailable;
}

function checkJson(check: HostCheck) {
  const { host, facts } = check;
  return {
    name: host.name,
    address: host.address,
    usable: check.usable,
    hostKey: check.host.launch ? "launch" : (check.hostKey ?? "unverified"),
    fingerprint: check.hostKeyFingerprint,
    os: facts?.os ?? null,
    arch: facts?.arch ?? null,
    platform: facts?.platform ?? null,
    machine: facts?.machine ?? null,
    node: facts?.node ?? null,
    napi: facts?.napi ?? null,
    byteOrder: facts?.byteOrder ?? null,
    wordBits: facts?.wordBits ?? null,
    libc: facts?.libc ?? null,
    cores: facts?.cores ?? null,
    freeBytes: facts?.freeBytes ?? null,
    rsync: facts?.rsync ?? null,
    error: check.error?.message ?? null,
    ms: Math.round(check.elapsedMs),
  };
}

/** Byte order and word size, e.g. "LE 64-bit", "BE 64-bit", "LE 32-bit". */
function words(facts: HostFacts): string {
  return `${facts.byteOrder ?? "?"} ${facts.wordBits === null ? "?" : `${facts.wordBits}-bit`}`;
}

function renderTable(checks: HostCheck[]): string {
  const rows = [["host", "status", "host key", "os/arch", "order/word", "node", "cores", "free disk", "rsync", "time"]];
  for (const check of checks) {
    const f = check.facts;
    rows.push([
      check.host.name,
      check.usable ? "ok" : "FAILED",
      check.host.launch ? "(launch)" : (check.hostKey ?? (check.error?.code === "auth" ? "refused" : "-")),
      f ? `${f.os}/${f.arch}` : "-",
      f ? words(f) : "-",
      f?.node ?? "-",
      f?.cores?.toString() ?? "-",
      f?.freeBytes != null ? formatBytes(f.freeBytes) : "-",
      f ? (f.rsync ? "yes" : "no") : "-",
      `${Math.round(check.elapsedMs)} ms`,
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}
