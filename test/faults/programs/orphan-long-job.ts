// A long job for Ctrl-C / SIGTERM tests: `-- nap <count>` maps ops that each sleep 50 ms;
// `-- crunch <count>` maps ops of small synchronous work. main prints `orphan-progress done=<n>`
// as results come in; each slave prints `orphan-slave pid=<pid>` with its first op.
import { setTimeout as sleep } from "node:timers/promises";
import { defineProgram } from "marionette-mnt";

function announce(ctx: { announced: boolean }): void {
  if (ctx.announced) return;
  ctx.announced = true;
  console.log(`orphan-slave pid=${process.pid} working`);
}

export default defineProgram({
  init: () => ({ announced: false }),
  worker: {
    async nap(ctx, i: number): Promise<number> {
      announce(ctx);
      await sleep(50);
      return i;
    },
    crunch(ctx, i: number): number {
      announce(ctx);
      let x = i;
      for (let k = 0; k < 20_000; k++) x = (Math.imul(x, 31) + k) | 0;
      return x;
    },
  },
  async main(m, argv) {
    const [work, countText] = argv;
    if (work !== "nap" && work !== "crunch") throw new Error(`orphan-long-job: unknown work ${JSON.stringify(work)} (nap, crunch)`);
    const count = Number(countText);
    const every = work === "nap" ? 4 : 200;
    function* inputs(): Generator<number> {
      for (let i = 0; i < count; i++) yield i;
    }
    let done = 0;
    for await (const _ of m.map(work, inputs())) {
      if (++done % every === 0) console.log(`orphan-progress done=${done}`);
    }
    console.log(`orphan-long-job: all ${done} ops finished`);
    return 0;
  },
});
