// `mnt exec` benchmark (bench/exec.ts): shared data into every slave. main sets one Float64Array
// with m.shared.set and issues one read per slave; timed inside main from the set to the last
// slave's answer. argv: slaves, MiB.
import { defineProgram } from "marionette-mnt";
import { report, slavesUp } from "./slaves-up.ts";

export default defineProgram({
  init: () => ({}),
  worker: {
    noop: (_ctx, x: number) => x,
    read: async (_ctx, key: string, op) => {
      const value = await op.shared.get<Float64Array>(key);
      return { length: value.length, last: value[value.length - 1], slave: op.slave.id };
    },
  },
  async main(m, argv) {
    const slaves = Number(argv[0] ?? 2);
    const mib = Number(argv[1] ?? 256);
    await slavesUp(m, slaves);
    await Promise.all(Array.from({ length: 4 * slaves }, () => m.worker.noop(0)));
    const value = new Float64Array((mib * 1024 * 1024) / 8);
    for (let i = 0; i < value.length; i += 512) value[i] = i;
    value[value.length - 1] = 42;
    const started = performance.now();
    m.shared.set("blob", value);
    const reads = await Promise.all(Array.from({ length: slaves }, () => m.worker.read("blob")));
    const ms = performance.now() - started;
    if (!reads.every((read) => read.length === value.length && read.last === 42)) throw new Error(`a slave read something else: ${JSON.stringify(reads)}`);
    report({ ms, mib, mibPerSec: mib / (ms / 1000), slavesThatRead: new Set(reads.map((read) => read.slave)).size });
  },
});
