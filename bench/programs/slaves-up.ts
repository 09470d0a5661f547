// For the `mnt exec` benchmarks (bench/exec.ts): main waits until the slaves it asked for are up
// before it starts a clock, so what is timed is the steady state, not the agent's start-up.
import type { RunStats } from "marionette-mnt";

export async function slavesUp(m: { stats(): RunStats }, slaves: number, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (m.stats().slaves < slaves) {
    if (performance.now() > until) throw new Error(`only ${m.stats().slaves} of ${slaves} slaves came up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The one line bench/exec.ts reads from the program's stdout. */
export function report(result: unknown): void {
  console.log(`BENCH ${JSON.stringify(result)}`);
}
