// For the start-up benchmark: ops say where and when they ran; main stops once every expected host
// has run one, and prints the time (ms since the epoch) of each host's first op.
import os from "node:os";
import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({}),
  worker: {
    where: () => ({ host: os.hostname(), at: Date.now() }),
  },
  async main(m, argv) {
    const hosts = Number(argv[0] ?? 3);
    const first = new Map<string, number>();
    while (first.size < hosts) {
      // Enough ops per round for every slave to get one as soon as it is up.
      const seen = await Promise.all(Array.from({ length: Math.max(16, 2 * hosts) }, () => m.worker.where()));
      for (const { host, at } of seen) if (!first.has(host) || at < first.get(host)!) first.set(host, at);
    }
    console.log(JSON.stringify(Object.fromEntries(first)));
  },
});
