// Child processes of the peer benchmarks: none may outlive the run.
//
// Three layers: every child exits by itself when its stdin or IPC channel closes (so even a
// SIGKILLed parent leaves no orphans); `stopChild` closes that channel and escalates to SIGKILL
// after a grace period; and a process 'exit' hook kills whatever is still tracked.
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
let hooked = false;

/** Registers a child so it is killed if the benchmark process exits while it still runs. */
export function track<T extends ChildProcess>(child: T): T {
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
  live.add(child);
  child.once("exit", () => live.delete(child));
  // A failed spawn emits 'error' and no 'exit'.
  child.once("error", () => {
    if (child.pid === undefined) live.delete(child);
  });
  return child;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

/** Resolves once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Asks the child to end with `gently` (close stdin, disconnect …), then SIGKILLs it after `graceMs`. */
export async function stopChild(child: ChildProcess, gently: () => void, graceMs = 2_000): Promise<void> {
  if (hasExited(child)) return;
  try {
    gently();
  } catch {
    // The channel may already be gone; the timer below still applies.
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  timer.unref();
  await exited(child);
  clearTimeout(timer);
}

/** An Error for "the child went away (before we were done with it)" naming its exit code or signal. */
export function exitError(what: string, code: number | null, signal: NodeJS.Signals | null): Error {
  return new Error(`${what} exited early (${signal ?? `code ${String(code)}`})`);
}
