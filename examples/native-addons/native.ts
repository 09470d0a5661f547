// Native addons on every host: each worker op tells which architecture its slave runs on, and what
// four addons (a prebuild, a per-platform package, two source builds) make of its input. main
// computes the same digests here and compares: hosts of other architectures must agree bit for bit.
import { parseArgs } from "node:util";
import { defineProgram } from "marionette-mnt";
import { compiledFor, digest, type Digest, type Item } from "./digest.ts";

export interface Report {
  index: number;
  /** The slave's `process.arch`, and the architecture our addon was compiled for: they must agree. */
  arch: string;
  compiledFor: string;
  digest: Digest;
}

export default defineProgram({
  init: () => ({}),
  worker: {
    async digest(_ctx, item: Item): Promise<Report> {
      return { index: item.index, arch: process.arch, compiledFor: compiledFor(), digest: await digest(item) };
    },
  },
  async main(m, argv) {
    const { values } = parseArgs({ args: argv, options: { items: { type: "string", default: "16" }, slaves: { type: "string", default: "0" } } });
    const count = Number(values.items);
    // Hosts come up at their own pace (an emulated one takes seconds): with --slaves N, wait (up to
    // 60 s) until N slaves are up, so every host gets work.
    const deadline = Date.now() + 60_000;
    while (m.stats().slaves < Number(values.slaves) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (!(Number.isInteger(count) && count > 0)) {
      console.error("native: --items must be a positive integer");
      return 2;
    }
    const items: Item[] = Array.from({ length: count }, (_, index) => ({ index, text: `item ${index}: ${"marionette ".repeat(index % 5)}` }));

    const byArch = new Map<string, number>();
    const mismatches: string[] = [];
    for await (const { value: report } of m.map("digest", items)) {
      byArch.set(report.arch, (byArch.get(report.arch) ?? 0) + 1);
      if (report.compiledFor !== report.arch) mismatches.push(`item ${report.index}: a ${report.arch} slave loaded an addon compiled for ${report.compiledFor}`);
      const local = await digest(items[report.index]!);
      for (const key of Object.keys(local) as (keyof Digest)[]) {
        if (local[key] !== report.digest[key]) mismatches.push(`item ${report.index} on ${report.arch}: ${key} ${String(report.digest[key])}, here ${String(local[key])}`);
      }
    }
    const hosts = [...byArch].map(([arch, n]) => `${arch} ${n}`).join(", ");
    if (mismatches.length > 0) {
      for (const line of mismatches) console.error(`native: ${line}`);
      console.log(`native: ${mismatches.length} mismatches over ${count} items (${hosts})`);
      return 1;
    }
    console.log(`native: ${count} items, every digest equal to this machine's (${hosts}; local ${process.arch})`);
    return 0;
  },
});
