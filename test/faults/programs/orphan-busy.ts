// Keeps both slaves in a known state so that no-orphans.test.ts can kill or stop the master there.
// `-- idle`: both slaves answered an op and now wait for the next one while main sleeps.
// `-- spin`: every slave is inside `for (;;) {}` (it can never see op.signal or its channel close).
// `-- sleep`: every slave awaits a 10-minute timer inside an op.
// `-- unawaited <ms>`: main issues ops that each spin synchronously for <ms> ms, does not await
// them and returns 7 at once (mnt waits for them, then exits 7).
// `-- unawaited-forever`: the same with ops in `for (;;) {}`: main returns 7, mnt waits for them.
// `-- unawaited-then-throw <file>`: the same, but main throws once <file> exists.
// Slaves print `orphan-slave pid=<pid> <state>` (mnt's stderr, tagged [local:N]) as they get there.
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { defineProgram } from "marionette-mnt";

const LONG_MS = 600_000;

export default defineProgram({
  init: () => ({}),
  worker: {
    hello: (_ctx, _input: undefined, op) => op.slave.pid,
    spin(): never {
      console.log(`orphan-slave pid=${process.pid} spinning`);
      for (;;) {
        // a synchronous loop: nothing else runs on this slave's main thread again
      }
    },
    async nap(): Promise<void> {
      console.log(`orphan-slave pid=${process.pid} sleeping`);
      await sleep(LONG_MS);
    },
    spinFor(_ctx, ms: number): number {
      console.log(`orphan-slave pid=${process.pid} spinning for ${ms} ms`);
      const end = Date.now() + ms;
      while (Date.now() < end) {
        // busy
      }
      console.log(`orphan-slave pid=${process.pid} done spinning`);
      return ms;
    },
  },
  async main(m, argv) {
    const [mode, arg] = argv;
    switch (mode) {
      case "idle": {
        const pids = new Set<number>();
        while (pids.size < 2) {
          for (const pid of await Promise.all([m.worker.hello(), m.worker.hello(), m.worker.hello(), m.worker.hello()])) pids.add(pid);
          await sleep(20);
        }
        console.log(`orphan-master slaves idle: pids=${[...pids].join(",")}`);
        await sleep(LONG_MS);
        return 0;
      }
      case "spin":
        // Four ops for two slaves: each slave gets at least one, whatever its pipeline depth.
        await Promise.all([1, 2, 3, 4].map(() => m.worker.spin()));
        return 0;
      case "sleep":
        await Promise.all([1, 2, 3, 4].map(() => m.worker.nap()));
        return 0;
      case "unawaited": {
        const ms = Number(arg);
        for (let i = 0; i < 4; i++) void m.worker.spinFor(ms);
        console.log("orphan-master main returns 7");
        return 7;
      }
      case "unawaited-forever":
        for (let i = 0; i < 4; i++) void m.worker.spin();
        console.log("orphan-master main returns 7");
        return 7;
      case "unawaited-then-throw":
        for (let i = 0; i < 4; i++) void m.worker.spin();
        while (!existsSync(arg!)) await sleep(20);
        throw new Error("orphan-busy: main gives up");
      default:
        throw new Error(`orphan-busy: unknown mode ${JSON.stringify(mode)}`);
    }
  },
});
