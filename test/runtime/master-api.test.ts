// The `m` object over a stand-in runtime: m.map's default concurrency follows the slaves'
// pipeline capacity, as documented in core/program/index.ts.
import { expect } from "chai";
import { createMasterApi, MIN_MAP_CONCURRENCY, type MasterRuntime } from "../../core/runtime/master-api.ts";
import type { RunStats } from "../../core/program/index.ts";

/** A runtime whose ops settle only when the test says so; it records the most ops in flight at once. */
function standIn(capacity: number) {
  const pending: Array<() => void> = [];
  let inFlight = 0;
  let peak = 0;
  const runtime: MasterRuntime = {
    pipelineCapacity: capacity,
    issueWorker: (_index, _name, input) =>
      new Promise((resolve) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        pending.push(() => {
          inFlight--;
          resolve(input);
        });
      }),
    issueContext: async () => {},
    setShared: () => {},
    stats: () => ({}) as RunStats,
  };
  return { runtime, pending, peak: () => peak, setCapacity: (n: number) => ((runtime as { pipelineCapacity: number }).pipelineCapacity = n) };
}

async function drain(capacity: number, inputs: number, options?: { concurrency?: number }, change?: (s: ReturnType<typeof standIn>) => void) {
  const stand = standIn(capacity);
  const m = createMasterApi(stand.runtime, ["echo"], []);
  const seen: number[] = [];
  const consume = (async () => {
    for await (const { value } of m.map("echo", Array.from({ length: inputs }, (_, i) => i), options)) seen.push(value as number);
  })();
  // Settle ops one at a time, letting the map refill in between.
  for (let settled = 0; settled < inputs; settled++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (settled === 10) change?.(stand);
    stand.pending.shift()?.();
  }
  await consume;
  return { peak: stand.peak(), seen };
}

describe("m.map", () => {
  it("keeps twice the slaves' pipeline capacity in flight by default", async () => {
    const { peak, seen } = await drain(500, 3000);
    expect(peak).to.equal(1000);
    expect(seen.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 3000 }, (_, i) => i));
  });

  it(`keeps at least ${MIN_MAP_CONCURRENCY} in flight while the capacity is small or unknown`, async () => {
    const { peak } = await drain(0, 500);
    expect(peak).to.equal(MIN_MAP_CONCURRENCY);
  });

  it("follows the capacity as slaves join", async () => {
    const { peak } = await drain(0, 2000, undefined, (stand) => stand.setCapacity(400));
    expect(peak).to.equal(800);
  });

  it("an explicit concurrency wins", async () => {
    const { peak } = await drain(500, 300, { concurrency: 7 });
    expect(peak).to.equal(7);
  });
});
