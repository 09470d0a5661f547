// `mnt exec` benchmark (bench/exec.ts): a program with one op, the cost of a whole short run
// (start-up, build check, agent, slaves, stop), as CI running a small job pays it.
import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({}),
  worker: {
    noop: (_ctx, x: number) => x,
  },
  async main(m) {
    await m.worker.noop(1);
  },
});
