// Our own N-API addon alone (addon/, plain C), on hosts of every architecture mnt builds for: x64,
// arm64, armv7l (32-bit), riscv64 and s390x (big-endian). Each worker op reports its slave's
// `process.arch` and `os.endianness()`, the architecture and byte order the addon was compiled for,
// and what the addon computes from the item: an FNV-1a of its text, and the sum of its Float64Array
// read straight from memory as that CPU's doubles. main computes both here and compares, so a host
// must have loaded a build made for it and received the array's values in its own byte order.
//   --items N      items to send (default 16)
//   --tags a,b,…   deal the items in turn to hosts with each tag (hosts.yaml `tags:`): every host gets some
//   --slaves N     first wait (up to 60 s) until N slaves are up
import os from "node:os";
import { parseArgs } from "node:util";
import checksum from "mnt-checksum";
import { defineProgram } from "marionette-mnt";

interface Item {
  index: number;
  text: string;
  values: Float64Array;
}

interface Report {
  index: number;
  arch: string;
  endianness: string;
  compiledFor: string;
  compiledByteOrder: string;
  fnv1a: number;
  sum: number;
}

function item(index: number): Item {
  const values = Float64Array.from({ length: 3 + (index % 5) }, (_, k) => (k % 3 === 2 ? -0 : (k + 1) * 1.25 - index / 3));
  return { index, text: `item ${index}: ${"marionette ".repeat(index % 4)}`, values };
}

function sumHere(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum;
}

export default defineProgram({
  init: () => ({}),
  worker: {
    check(_ctx, input: Item): Report {
      return {
        index: input.index,
        arch: process.arch,
        endianness: os.endianness(),
        compiledFor: checksum.compiledFor(),
        compiledByteOrder: checksum.byteOrder(),
        fnv1a: checksum.fnv1a(Buffer.from(input.text, "utf8")),
        sum: checksum.sumFloat64(input.values),
      };
    },
  },
  async main(m, argv) {
    const { values } = parseArgs({ args: argv, options: { items: { type: "string", default: "16" }, tags: { type: "string" }, slaves: { type: "string", default: "0" } } });
    const count = Number(values.items);
    if (!(Number.isInteger(count) && count > 0)) {
      console.error("checksum: --items must be a positive integer");
      return 2;
    }
    const deadline = Date.now() + 60_000;
    while (m.stats().slaves < Number(values.slaves) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const tags = values.tags ? values.tags.split(",") : [];
    const items = Array.from({ length: count }, (_, index) => item(index));
    const reports = await Promise.all(items.map((it, index) => m.worker.check(it, tags.length > 0 ? { tags: [tags[index % tags.length]!] } : {})));

    const byHost = new Map<string, number>();
    const mismatches: string[] = [];
    for (const report of reports) {
      const where = `${report.arch} ${report.endianness}`;
      byHost.set(where, (byHost.get(where) ?? 0) + 1);
      const sent = items[report.index]!;
      if (report.compiledFor !== report.arch) mismatches.push(`item ${report.index}: a ${report.arch} slave loaded an addon compiled for ${report.compiledFor}`);
      if (report.compiledByteOrder !== report.endianness) mismatches.push(`item ${report.index}: a ${where} slave loaded an addon compiled for ${report.compiledByteOrder}`);
      const fnv1a = checksum.fnv1a(Buffer.from(sent.text, "utf8"));
      if (report.fnv1a !== fnv1a) mismatches.push(`item ${report.index} on ${where}: fnv1a ${report.fnv1a}, here ${fnv1a}`);
      const sum = sumHere(sent.values);
      if (!Object.is(report.sum, sum)) mismatches.push(`item ${report.index} on ${where}: sum of its Float64Array ${report.sum}, here ${sum}`);
    }
    const hosts = [...byHost].sort().map(([where, n]) => `${where} ${n}`).join(", ");
    if (mismatches.length > 0) {
      for (const line of mismatches) console.error(`checksum: ${line}`);
      console.log(`checksum: ${mismatches.length} mismatches over ${count} items (${hosts})`);
      return 1;
    }
    console.log(`checksum: ${count} items, every result equal to this machine's (${hosts}; local ${process.arch} ${os.endianness()})`);
    return 0;
  },
});
