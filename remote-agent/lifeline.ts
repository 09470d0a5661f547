// A slave's lifeline: a thread of its own that beats on a pipe to the agent. The main thread may be
// busy for minutes in a legitimate synchronous op, so the beat cannot come from there; only a
// process that is stopped (SIGSTOP), frozen or gone stops beating. The same thread ends the slave
// when its agent is gone: an op spinning in a synchronous loop would never notice fd 3 closing, and
// a slave that outlives its agent is an orphan burning a core.
import { Worker } from "node:worker_threads";

const LIFELINE_SOURCE = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const beat = Buffer.from([0]);
setInterval(() => {
  let orphaned = process.ppid !== workerData.parent;
  if (!orphaned) {
    try {
      writeSync(workerData.fd, beat);
    } catch (error) {
      orphaned = error.code !== "EAGAIN";
    }
  }
  if (orphaned) process.kill(process.pid, "SIGKILL");
}, workerData.intervalMs);
`;

export function startLifeline(fd: number, intervalMs: number): void {
  const worker = new Worker(LIFELINE_SOURCE, { eval: true, workerData: { fd, intervalMs, parent: process.ppid } });
  // It must never keep a slave alive that would otherwise exit.
  worker.unref();
  worker.on("error", (error) => process.stderr.write(`slave: the lifeline thread failed: ${error.message}\n`));
}
