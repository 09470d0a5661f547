// The master's CPU per no-op worker op, measured inside main (process.cpuUsage: every thread of
// the master process, the --trace writer thread included): what --trace and --joblog add to the
// process every op passes through. 20,000 warm-up ops, then OPS (argv[0], default 100,000) with
// 1,000 outstanding. Prints one line: ops/s and master CPU µs per op.
//   node bin/mnt.js exec bench/programs/exec-noop-cpu.ts --slots 2 -q [--trace t.json --joblog j.jsonl]
import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({}),
  worker: {
    noop: (_ctx, x: number) => x,
  },
  async main(m, argv) {
    const ops = Number(argv[0] ?? 100_000);
    while (m.stats().slaves < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const run = async (n: number) => {
      let issued = 0;
      const lane = async () => {
        while (issued < n) {
          issued++;
          await m.worker.noop(0);
        }
      };
      await Promise.all(Array.from({ length: 1000 }, lane));
    };
    await run(20_000);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await run(ops);
    const used = process.cpuUsage(cpu);
    const ms = performance.now() - started;
    console.log(`ops/s ${Math.round((ops / ms) * 1000)} master CPU µs/op ${((used.user + used.system) / ops).toFixed(1)}`);
  },
});
