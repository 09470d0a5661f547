// Peer: Piscina with 2 worker threads running a no-op, called with `pool.run(0)`.
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { measure, type Method, type PeerResult } from "../stats.ts";

export interface PiscinaPeerOptions {
  threads?: number;
  /** Piscina's own option; its default, 1, leaves a thread idle while a result travels back. */
  concurrentTasksPerWorker?: number;
  method?: Partial<Method>;
}

const WORKER = fileURLToPath(new URL("./piscina-worker.mjs", import.meta.url));

export async function runPiscinaPeer(options: PiscinaPeerOptions = {}): Promise<PeerResult> {
  const threads = options.threads ?? 2;
  const perWorker = options.concurrentTasksPerWorker ?? 1;
  const pool = new Piscina<number, number>({
    filename: WORKER,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: perWorker,
    // The worker is plain JavaScript: don't load tsx (inherited from our --import) in each thread.
    execArgv: [],
  });
  try {
    return await measure({ name: `piscina (${threads} threads${perWorker === 1 ? "" : `, ${perWorker} tasks each`})`, call: () => pool.run(0), method: options.method });
  } finally {
    await pool.destroy();
  }
}
