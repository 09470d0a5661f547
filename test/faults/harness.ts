// A real local cluster for fault tests: the runtime, one local agent, its slaves as real
// processes, and the test itself in the role of `main`. Faults are real signals to real pids.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { localConnector } from "../../core/connections/local.ts";
import { createMasterApi } from "../../core/runtime/master-api.ts";
import { loadProgram } from "../../core/runtime/run-program.ts";
import { Runtime, type RuntimeEvent, type RuntimeOptions } from "../../core/runtime/runtime.ts";
import type { Master, Program } from "../../core/program/index.ts";
import { bundleProgram } from "../../toolchain/build/bundle-program.ts";
import { agentBuildHash, agentBundle } from "../../toolchain/own-files.ts";
import type program from "./programs/faults.ts";
import { seededRandom } from "../helpers/seeded-random.ts";
import { waitFor } from "../helpers/wait.ts";
export { seededRandom };

type FaultsProgram = typeof program extends Program<infer _C, infer W, infer X> ? Master<W, X> : never;

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Cluster {
  runtime: Runtime;
  m: FaultsProgram;
  events: RuntimeEvent[];
  /** Pids of the regular slaves up now (not the short-lived catch-up ones). */
  liveSlavePids(): number[];
  /** Every agent process started (reconnections included), in order. */
  agentPids: number[];
  /** Every slave pid ever reported up. */
  allSlavePids: number[];
  stop(): Promise<void>;
}

export async function startCluster(slots: number, options: Partial<RuntimeOptions> = {}): Promise<Cluster> {
  const bundle = await bundleProgram(path.join(here, "programs", "faults.ts"), path.join(os.tmpdir(), "mnt-test-programs"));
  const loaded = await loadProgram(bundle.file);
  const workerNames = Object.keys(loaded.worker).sort();
  const contextNames = Object.keys(loaded.context ?? {}).sort();
  const runtime = new Runtime({ workerNames, contextNames, expectedBuild: agentBuildHash(), ...options });
  const events: RuntimeEvent[] = [];
  const live = new Map<number, number>();
  const allSlavePids: number[] = [];
  const agentPids: number[] = [];
  runtime.onEvent((event) => {
    events.push(event);
    if (event.kind === "slave.up") {
      // Catch-up slaves stop by themselves once done: faults are aimed at the regular ones.
      if (!event.catchUp) live.set(event.slave, event.pid);
      allSlavePids.push(event.pid);
    }
    if (event.kind === "slave.lost") live.delete(event.slave);
    if (event.kind === "agent.lost") live.clear();
  });
  runtime.addAgent({ host: "local", connect: localConnector(agentBundle, { onStart: (pid) => agentPids.push(pid) }), slots, programPath: bundle.file }).catch(() => {});
  await waitFor(() => runtime.stats().slaves === slots, 30_000, `${slots} slaves up`);
  return {
    runtime,
    m: createMasterApi(runtime, workerNames, contextNames) as FaultsProgram,
    events,
    liveSlavePids: () => [...live.values()],
    agentPids,
    allSlavePids,
    async stop() {
      await runtime.stop();
      await runtime.disconnect();
    },
  };
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Seeds for the repeated fault tests: FAULT_SEEDS=1,2,3 replays chosen ones. */
export function faultSeeds(count: number): number[] {
  const chosen = process.env.FAULT_SEEDS;
  if (chosen) return chosen.split(",").map(Number);
  return Array.from({ length: count }, (_, k) => 1000 + k * 7919);
}
