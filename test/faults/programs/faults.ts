// The program the fault tests run: cheap deterministic work whose results show which context the
// op saw, plus ops that crash, hang or spin on purpose.
import { defineProgram } from "marionette-mnt";

interface Context {
  /** The last value set by the `setVersion` context op (0 before any). */
  version: number;
  /** Every version set so far, in order: a replay that skipped or repeated one shows here. */
  history: number[];
}

function spinMicros(micros: number): void {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until);
}

export default defineProgram({
  init: (): Context => ({ version: 0, history: [] }),
  context: {
    setVersion(ctx: Context, version: number) {
      ctx.version = version;
      ctx.history.push(version);
    },
  },
  worker: {
    /** i², computed after `workMicros` of busy work, with the context the op ran under. */
    square(ctx: Context, input: { i: number; workMicros: number }) {
      spinMicros(input.workMicros);
      return { i: input.i, square: input.i * input.i, version: ctx.version, history: ctx.history.join(","), pid: process.pid };
    },
    /** Dies with SIGSEGV on the input marked `crash` (after a line on stderr), else returns i. */
    crashOn(_ctx: Context, input: { i: number; crash: boolean }) {
      if (input.crash) {
        console.error(`crashOn: input ${input.i} is the bad one, crashing`);
        process.kill(process.pid, "SIGSEGV");
        spinMicros(10_000_000); // the signal arrives while we wait
      }
      return input.i;
    },
    /** Spins synchronously for `ms` (forever with -1), deaf to op.signal. */
    spin(_ctx: Context, ms: number) {
      if (ms < 0) for (;;);
      spinMicros(ms * 1000);
      return ms;
    },
    /** Throws a user exception: that rejects the op, it does not kill anything. */
    fail(_ctx: Context, message: string) {
      throw new Error(message);
    },
  },
  async main() {
    return 0;
  },
});
