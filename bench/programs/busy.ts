// The recovery benchmark's program: ops that keep a slave busy for a while, and say which run of
// the op (attempt) produced the result, so re-runs after a kill can be told apart.
import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({}),
  worker: {
    busy(_ctx, ms: number, op) {
      const until = performance.now() + ms;
      while (performance.now() < until);
      return { attempt: op.attempt, pid: process.pid };
    },
  },
  async main() {
    return 0;
  },
});
