// Property: for random programs of interleaved worker ops, context ops and shared-data writes,
// the results over real local agents (1–4 slaves) equal a sequential in-process execution.
import { expect } from "chai";
import fc from "fast-check";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalAgent, type LocalAgent } from "../../core/connections/local.ts";
import { Runtime } from "../../core/runtime/runtime.ts";
import { bundleProgram } from "../../toolchain/build/bundle-program.ts";
import { agentBuildHash, agentBundle } from "../../toolchain/own-files.ts";
import model, { type Probe } from "./model/program.ts";

type Step =
  | { t: "worker"; key: string | undefined; delayMs: number }
  | { t: "push"; value: number }
  | { t: "scale"; value: number }
  | { t: "set"; key: string; value: number[] }
  | { t: "await" };

const KEYS = ["a", "b", "c"];
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("worker" as const), key: fc.option(fc.constantFrom(...KEYS), { nil: undefined }), delayMs: fc.constantFrom(0, 0, 0, 1, 3) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("push" as const), value: fc.integer({ min: 0, max: 999 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("scale" as const), value: fc.integer({ min: 1, max: 9 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("set" as const), key: fc.constantFrom(...KEYS), value: fc.array(fc.integer(), { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: "await" as const }) },
);
const programs = fc.array(step, { minLength: 1, maxLength: 40 });

/** The same steps, one after another, in this process: what sequential semantics promises. */
async function runSequentially(steps: Step[]): Promise<unknown[]> {
  const ctx = await model.init();
  model.context!.reset(ctx);
  const shared = new Map<string, number[] | null>(KEYS.map((key) => [key, null]));
  const results: unknown[] = [];
  let k = 0;
  for (const s of steps) {
    if (s.t === "worker") {
      const snapshot = new Map(shared);
      const probe: Probe = { k: k++, key: s.key, delayMs: 0 };
      const op = {
        shared: { get: async (key: string) => snapshot.get(key) },
        signal: new AbortController().signal,
        slave: { id: 0, slot: 0, host: "", arch: "", pid: 0 },
        attempt: 0,
      };
      results.push(await model.worker.probe(ctx, probe, op as never));
    } else if (s.t === "push") model.context!.push(ctx, s.value);
    else if (s.t === "scale") model.context!.setScale(ctx, s.value);
    else if (s.t === "set") shared.set(s.key, s.value);
  }
  return results;
}

/** The same steps issued on a real cluster, awaiting only where the program says so. */
async function runDistributed(runtime: Runtime, steps: Step[]): Promise<unknown[]> {
  const names = { reset: 1, push: 0, setScale: 2 }; // context names sorted: push, reset, setScale
  await runtime.issueContext(names.reset, "reset", undefined);
  for (const key of KEYS) runtime.setShared(key, null); // every program starts with a, b, c = null
  const pending: Array<Promise<unknown>> = [];
  let k = 0;
  for (const s of steps) {
    if (s.t === "worker") {
      const probe: Probe = { k: k++, key: s.key, delayMs: s.delayMs };
      pending.push(runtime.issueWorker(0, "probe", probe, undefined));
    } else if (s.t === "push") void runtime.issueContext(names.push, "push", s.value);
    else if (s.t === "scale") void runtime.issueContext(names.setScale, "setScale", s.value);
    else if (s.t === "set") runtime.setShared(s.key, s.value);
    else await Promise.all(pending);
  }
  return Promise.all(pending);
}

describe("sequential semantics (property, real local agents)", function () {
  this.timeout(300_000);
  const here = path.dirname(fileURLToPath(import.meta.url));
  let bundle: string;

  before(async () => {
    bundle = (await bundleProgram(path.join(here, "model", "program.ts"), path.join(os.tmpdir(), "mnt-test-programs"))).file;
  });

  for (const slots of [1, 2, 3, 4]) {
    it(`equals the sequential execution for 60 random programs on ${slots} slave(s)`, async () => {
      const agent: LocalAgent = startLocalAgent(agentBundle);
      const runtime = new Runtime({ workerNames: ["probe"], contextNames: ["push", "reset", "setScale"], expectedBuild: agentBuildHash() });
      try {
        await runtime.addAgent({ host: "local", connect: async () => agent, slots, programPath: bundle });
        let runs = 0;
        await fc.assert(
          fc.asyncProperty(programs, async (steps) => {
            runs++;
            const expected = await runSequentially(steps);
            const actual = await runDistributed(runtime, steps);
            expect(actual).to.deep.equal(expected);
          }),
          { numRuns: 60 },
        );
        expect(runs).to.be.at.least(60);
        expect(runtime.stats().slaves).to.equal(slots);
      } finally {
        runtime.close();
        await agent.exited;
      }
    });
  }
});
