// The program the property test runs both on real slaves and sequentially in-process.
import { setTimeout as sleep } from "node:timers/promises";
import { defineProgram } from "marionette-mnt";

export interface Probe {
  /** Which op this is, in issue order. */
  k: number;
  /** Shared key to read, if any. */
  key?: string;
  /** Milliseconds to wait before answering: lets slaves finish out of issue order. */
  delayMs: number;
}

export default defineProgram({
  init: () => ({ log: [] as number[], scale: 1 }),
  context: {
    reset(ctx) {
      ctx.log = [];
      ctx.scale = 1;
    },
    push(ctx, value: number) {
      ctx.log.push(value);
    },
    setScale(ctx, scale: number) {
      ctx.scale = scale;
    },
  },
  worker: {
    async probe(ctx, probe: Probe, op) {
      if (probe.delayMs > 0) await sleep(probe.delayMs);
      const shared = probe.key === undefined ? null : await op.shared.get<number[]>(probe.key);
      return { k: probe.k, log: ctx.log.join(","), scale: ctx.scale, shared };
    },
  },
  async main() {
    return 0;
  },
});
