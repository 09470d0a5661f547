// `mnt exec` benchmark (bench/exec.ts): no-op worker ops through the public API, measured inside
// main with the method every peer uses (bench/stats.ts): a window of outstanding `m.worker.noop()`
// calls (ops/s), then sequential calls (p50/p99). Process start-up is not in the figures.
// argv: slaves to wait for, then the method as JSON (overrides of DEFAULT_METHOD).
import { defineProgram } from "marionette-mnt";
import { measure } from "../stats.ts";
import { report, slavesUp } from "./slaves-up.ts";

export default defineProgram({
  init: () => ({}),
  worker: {
    noop: (_ctx, x: number) => x,
  },
  async main(m, argv) {
    await slavesUp(m, Number(argv[0] ?? 2));
    const method = JSON.parse(argv[1] ?? "{}") as Record<string, number>;
    report(await measure({ name: "mnt exec", call: () => m.worker.noop(0), method }));
  },
});
