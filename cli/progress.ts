// A live progress line on a terminal (stderr): ops done/queued/failed and the rate. Off when stderr
// is not a TTY, under CI, or with NO_COLOR/--json/--quiet (then only plain lines are printed).
import type { RunStats } from "../core/program/index.ts";

export interface Progress {
  /** Erases the line so that another line can be printed cleanly; it is redrawn on the next tick. */
  clear(): void;
  stop(): void;
}

export function startProgress(read: () => RunStats | null): Progress | null {
  if (!process.stderr.isTTY || process.env.CI === "true" || process.env.TERM === "dumb") return null;
  let shown = false;
  let lastDone = 0;
  let lastAt = performance.now();
  let rate = 0;
  const clear = () => {
    if (shown) process.stderr.write("\r\x1b[2K");
    shown = false;
  };
  const timer = setInterval(() => {
    const stats = read();
    if (!stats) return;
    const now = performance.now();
    const done = stats.workerDone + stats.workerFailed;
    rate = rate * 0.5 + ((done - lastDone) / ((now - lastAt) / 1000)) * 0.5;
    lastDone = done;
    lastAt = now;
    const text = `⏵ ${stats.slaves} slaves · ${done} done · ${stats.workerQueued + stats.workerRunning} queued · ${stats.workerFailed} failed · ${formatRate(rate)} ops/s`;
    process.stderr.write(`\r\x1b[2K${process.env.NO_COLOR ? text : `\x1b[2m${text}\x1b[22m`}`);
    shown = true;
  }, 250);
  timer.unref();
  return {
    clear,
    stop() {
      clearInterval(timer);
      clear();
    },
  };
}

function formatRate(rate: number): string {
  return rate >= 10_000 ? `${(rate / 1000).toFixed(0)}k` : rate >= 1000 ? `${(rate / 1000).toFixed(1)}k` : rate.toFixed(0);
}
