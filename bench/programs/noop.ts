// The no-op program the benchmarks drive: measures the runtime's own cost per op.
import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({}),
  worker: {
    noop: (_ctx, x: number) => x,
    readShared: async (_ctx, key: string, op) => {
      const value = await op.shared.get<Uint8Array>(key);
      return value.length;
    },
  },
  async main(m, argv) {
    const n = Number(argv[0] ?? 200_000);
    const t0 = performance.now();
    let count = 0;
    for await (const _ of m.map("noop", (function* () { for (let i = 0; i < n; i++) yield i; })(), { concurrency: 2048 })) count++;
    const t1 = performance.now();
    const lat: number[] = [];
    for (let i = 0; i < 5000; i++) { const s = performance.now(); await m.worker.noop(i); lat.push(performance.now() - s); }
    lat.sort((a, b) => a - b);
    console.log(JSON.stringify({ opsPerSec: Math.round(count / ((t1 - t0) / 1000)), p50Us: Math.round(lat[2500]! * 1000), p99Us: Math.round(lat[4950]! * 1000) }));
  },
});
