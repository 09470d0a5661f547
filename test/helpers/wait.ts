// Waiting in tests for something that happens in other processes: a bounded poll (a liveness
// limit that names what was awaited, never a timing assertion).
import { setTimeout as sleep } from "node:timers/promises";

export async function waitFor(condition: () => boolean, ms: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${ms} ms`);
    await sleep(everyMs);
  }
}
