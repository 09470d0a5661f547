// Monte Carlo estimate of π. A context op sets every slave's base seed; each worker op seeds its
// PRNG from that base plus its batch index, so a batch's result depends only on the batch, never
// on which slave ran it: the printed estimate is the same for any number of slaves.
import { parseArgs } from "node:util";
import { defineProgram } from "marionette-mnt";
import { countHits } from "./sample.ts";

export default defineProgram({
  init: () => ({ seed: 0 }),
  context: {
    seed(ctx, base: number) {
      ctx.seed = base;
    },
  },
  worker: {
    sample(ctx, input: { batch: number; n: number }) {
      return countHits(ctx.seed + input.batch, input.n);
    },
  },
  async main(m, argv) {
    const { values } = parseArgs({
      args: argv,
      options: { batches: { type: "string", default: "64" }, "per-batch": { type: "string", default: "200000" } },
    });
    const batches = Number(values.batches);
    const perBatch = Number(values["per-batch"]);
    if (!(Number.isInteger(batches) && batches > 0 && Number.isInteger(perBatch) && perBatch > 0)) {
      console.error("pi: --batches and --per-batch must be positive integers");
      return 2;
    }

    await m.context.seed(12345);
    const inputs = Array.from({ length: batches }, (_, batch) => ({ batch, n: perBatch }));
    // Integer hit counts summed in any order give the same total: completion order is harmless.
    let hits = 0;
    for await (const { value } of m.map("sample", inputs)) hits += value;

    const samples = batches * perBatch;
    const estimate = (4 * hits) / samples;
    console.log(`pi ≈ ${estimate.toFixed(5)} (${samples} samples)`);
    return Math.abs(estimate - Math.PI) < 0.01 ? 0 : 1;
  },
});
