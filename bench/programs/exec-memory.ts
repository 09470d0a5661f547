// `mnt exec` benchmark (bench/exec.ts): the master's memory per queued op. "issue": n calls of
// m.worker.noop(i) made at once; heap + external is read after issuing (all still queued: the
// runtime dispatches in a microtask after the synchronous loop), before awaiting. "map": the same
// ops through m.map over a generator; the peak growth is sampled every 10 ms. Run under
// `node --expose-gc bin/mnt.js` so that gc() settles the baseline (else the figures say so).
// argv: slaves, n, mode.
import { defineProgram } from "marionette-mnt";
import { report, slavesUp } from "./slaves-up.ts";

const gc = (globalThis as { gc?: () => void }).gc;

function used(): { heap: number; rss: number } {
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external, rss: usage.rss };
}

export default defineProgram({
  init: () => ({}),
  worker: {
    noop: (_ctx, x: number) => x,
  },
  async main(m, argv) {
    const slaves = Number(argv[0] ?? 2);
    const n = Number(argv[1] ?? 1_000_000);
    const mode = argv[2] ?? "issue";
    await slavesUp(m, slaves);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => m.worker.noop(i)));
    // The caller's own array of n slots is made before the baseline: what is counted is what the
    // runtime holds per op (the promise it returns included).
    const promises: Array<Promise<number>> = new Array(n);
    gc?.();
    const before = used();
    let after: { heap: number; rss: number };
    if (mode === "issue") {
      for (let i = 0; i < n; i += 1) promises[i] = m.worker.noop(i);
      after = used();
      await Promise.all(promises);
    } else {
      after = before;
      const timer = setInterval(() => {
        const now = used();
        after = { heap: Math.max(after.heap, now.heap), rss: Math.max(after.rss, now.rss) };
      }, 10);
      let count = 0;
      for await (const _ of m.map("noop", (function* () { for (let i = 0; i < n; i += 1) yield i; })())) count += 1;
      clearInterval(timer);
      if (count !== n) throw new Error(`m.map yielded ${count} of ${n}`);
    }
    report({ mode, n, gc: gc !== undefined, heapBytesPerOp: (after.heap - before.heap) / n, rssBytesPerOp: (after.rss - before.rss) / n, heapMiB: (after.heap - before.heap) / 2 ** 20, rssMiB: (after.rss - before.rss) / 2 ** 20 });
  },
});
