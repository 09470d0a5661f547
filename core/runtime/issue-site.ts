// Where in main a failed op was awaited, added to its error's stack. Capturing a stack when each
// op is issued would cost ~3 µs per op on the master's hot path (measured), so the error is taken
// through one extra promise step instead: when it rejects, V8's async stack trace of that step
// reaches the async function that awaits it (`at async main (job.ts:11:29)`), at no cost to ops
// that succeed.
import { fileURLToPath } from "node:url";
import path from "node:path";

/** Where mnt's master code runs from (core/runtime/, or dist/ once bundled): frames a user does not need. */
const OWN_DIR = path.dirname(fileURLToPath(import.meta.url)) + path.sep;
const marked = new WeakSet<Error>();

/** A rejection handler: adds the awaiting frames of the program to the error, then rethrows it. */
export function rethrowWithAwaitSite(error: unknown): never {
  if (error instanceof Error && !marked.has(error)) {
    marked.add(error);
    const frames = awaitingFrames(new Error().stack ?? "");
    if (frames.length > 0 && typeof error.stack === "string") error.stack = `${error.stack}\n${frames.join("\n")}`;
  }
  throw error;
}

/** The `at async …` lines of a stack that are not mnt's own. */
export function awaitingFrames(stack: string): string[] {
  return stack
    .split("\n")
    .filter((line) => /^\s+at async /.test(line) && !line.includes(OWN_DIR) && !/\(node:/.test(line))
    .map((line) => `    ${line.trim()}`);
}
