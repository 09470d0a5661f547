// Marionette measured with the same method as the peers: a no-op worker op through one local agent
// with 2 slaves, and shared-data bytes per second from the master into the slaves.
import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { localConnector } from "../core/connections/local.ts";
import type { Runtime } from "../core/runtime/runtime.ts";
import { bundleProgram } from "../toolchain/build/bundle-program.ts";
import { agentBundle } from "../toolchain/own-files.ts";
import { startRuntime, stopRuntime } from "./cluster.ts";
import { measure, type ByteResult, type Method, type PeerResult } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The no-op program's runtime with `slots` local slaves, all up. */
async function startCluster(slots: number): Promise<Runtime> {
  const bundle = await bundleProgram(path.join(here, "programs", "noop.ts"), path.join(os.tmpdir(), "mnt-bench"));
  return startRuntime({ host: "local", connect: localConnector(agentBundle), slots, programPath: bundle.file }, ["noop", "readShared"]);
}

export async function runMarionettePeer(options: { slots?: number; method?: Partial<Method> } = {}): Promise<PeerResult> {
  const slots = options.slots ?? 2;
  const cluster = await startCluster(slots);
  try {
    return await measure({
      name: `marionette (1 agent, ${slots} slaves)`,
      call: () => cluster.issueWorker(0, "noop", 0, undefined),
      method: options.method,
    });
  } finally {
    await stopRuntime(cluster);
  }
}

/**
 * Shared data into the slaves: the master sets a value of `bytes`, then every slave reads it in an
 * op. Timed from the set to the last slave's answer: one copy crosses master → agent, the agent
 * serves it to each slave from its cache.
 */
export async function runSharedBytes(options: { bytes?: number; slots?: number } = {}): Promise<ByteResult> {
  const bytes = options.bytes ?? 256 * 1024 * 1024;
  const slots = options.slots ?? 2;
  const cluster = await startCluster(slots);
  try {
    const value = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 4096) value[i] = i & 0xff;
    const started = process.hrtime.bigint();
    cluster.setShared("blob", value);
    // One read per slave: with depth 2 and equal load, the dispatcher spreads them.
    const reads = await Promise.all(Array.from({ length: slots }, () => cluster.issueWorker(1, "readShared", "blob", undefined)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (!reads.every((n) => n === bytes)) throw new Error(`shared read returned ${reads.join(", ")}, expected ${bytes}`);
    return { name: `marionette shared data (${slots} slaves)`, mibPerSec: bytes / 1024 / 1024 / seconds, bytes };
  } finally {
    await stopRuntime(cluster);
  }
}
