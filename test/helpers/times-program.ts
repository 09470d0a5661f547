// A small program whose release differs with `n`: three ops that multiply by n; main prints
// "results n,2n,3n". Deploy tests write a few of them to see what a new release sends.
import { writeFileSync } from "node:fs";
import path from "node:path";

export function timesProgram(dir: string, n: number): string {
  const file = path.join(dir, `job-${n}.ts`);
  writeFileSync(
    file,
    `import { defineProgram } from "marionette-mnt";
export default defineProgram({
  init: () => ({}),
  context: {},
  worker: { times(_ctx, x: number) { return x * ${n}; } },
  async main(m) {
    const results = await Promise.all([1, 2, 3].map((x) => m.worker.times(x)));
    console.log("results", results.join(","));
    return 0;
  },
});
`,
  );
  return file;
}
