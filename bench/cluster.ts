// A runtime with one agent whose slaves are all up, so that start-up is never part of what a
// benchmark measures.
import { setTimeout as sleep } from "node:timers/promises";
import { Runtime, type AgentSpec } from "../core/runtime/runtime.ts";
import { agentBuildHash } from "../toolchain/own-files.ts";

/** `listen` runs before the agent starts, so that no event is missed. */
export async function startRuntime(spec: AgentSpec & { slots: number }, workerNames: string[], listen?: (runtime: Runtime) => void): Promise<Runtime> {
  const runtime = new Runtime({ workerNames, contextNames: [], expectedBuild: agentBuildHash() });
  listen?.(runtime);
  await runtime.addAgent(spec);
  while (runtime.stats().slaves < spec.slots) await sleep(5);
  return runtime;
}

export async function stopRuntime(runtime: Runtime): Promise<void> {
  await runtime.stop();
  await runtime.disconnect();
}
