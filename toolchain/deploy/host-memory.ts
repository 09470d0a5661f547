// What the last deploy learnt of each host, kept in mnt's cache: its target and what its Node.js
// said (with the binary's identity, so an unchanged Node.js need not be started again). With it, a
// deploy with nothing changed checks the host's release in the same exec as the probe: about one
// round trip per host. A wrong guess (the host changed) only costs the exec it saves.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HostCheck } from "../../core/connections/ssh/check-hosts.ts";
import type { KnownNode } from "../../core/connections/ssh/probe.ts";
import type { HostEntry } from "../../core/hosts/inventory.ts";
import { cacheDir } from "../own-files.ts";

export interface Remembered {
  target: string;
  node: KnownNode | null;
}

type Memory = Record<string, Remembered>;

export class HostMemory {
  private readonly file = path.join(cacheDir(), "hosts.json");
  private readonly memory: Memory;

  constructor() {
    try {
      this.memory = JSON.parse(readFileSync(this.file, "utf8")) as Memory;
    } catch {
      this.memory = {};
    }
  }

  recall(host: HostEntry): Remembered | null {
    return this.memory[keyOf(host)] ?? null;
  }

  remember(host: HostEntry, target: string, check: HostCheck): void {
    const facts = check.facts!;
    const node = check.nodeId && facts.node !== null ? { id: check.nodeId, facts: { node: facts.node, platform: facts.platform, arch: facts.arch, napi: facts.napi, cores: facts.cores, byteOrder: facts.byteOrder, wordBits: facts.wordBits } } : null;
    this.memory[keyOf(host)] = { target, node };
  }

  /** Written whole under a temporary name, then renamed: concurrent deploys never read half a file. */
  save(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const staging = `${this.file}.${process.pid}`;
    writeFileSync(staging, JSON.stringify(this.memory));
    renameSync(staging, this.file);
  }
}

/** The same host reached the same way with the same Node.js command. */
function keyOf(host: HostEntry): string {
  return JSON.stringify([host.user ?? "", host.address, host.port ?? 22, host.node, host.workDir]);
}
