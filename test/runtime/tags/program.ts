// Says which slave process ran each op, and which context ops it had applied.
import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({ version: 0 }),
  context: {
    setVersion(ctx, version: number) {
      ctx.version = version;
    },
  },
  worker: {
    where(ctx, i: number, op) {
      return { i, pid: op.slave.pid, version: ctx.version };
    },
  },
  async main() {
    return 0;
  },
});
