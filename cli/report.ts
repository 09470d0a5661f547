// Turns runtime events into lines on stderr: remote output tagged [host:slot], mnt's own narration
// tagged [mnt]. Machine output (--json) goes to stdout elsewhere; this never writes there.
import type { RuntimeEvent } from "../core/runtime/runtime.ts";

export interface Reporter {
  event(event: RuntimeEvent): void;
  /** mnt's own narration line. */
  note(line: string): void;
}

export function plainReporter(write: (line: string) => void = (line) => process.stderr.write(line + "\n"), quiet = false): Reporter {
  const note = (line: string) => {
    if (!quiet) write(`[mnt] ${line}`);
  };
  return {
    note,
    event(event) {
      switch (event.kind) {
        case "log":
          write(event.slot === null ? `[${event.host}] ${event.line}` : `[${event.host}:${event.slot}] ${event.line}`);
          return;
        case "agent.up":
          note(`${event.host}: agent up (${event.hello.platform}-${event.hello.arch}, Node.js ${event.hello.node}), ${event.slots} slaves`);
          return;
        case "agent.lost":
          write(`[mnt] ${event.host}: ${event.wasUp ? "agent lost" : "not reached"}: ${event.reason}`);
          return;
        case "agent.retry":
          note(`${event.host}: reconnecting (attempt ${event.attempt})${event.delayMs > 0 ? ` in ${(event.delayMs / 1000).toFixed(1)} s` : ""}`);
          return;
        case "host.aside":
          write(`[mnt] ${event.host}: set aside for the rest of the run: ${event.reason}`);
          return;
        case "op.poisoned":
          write(`[mnt] ${event.error.message}`);
          return;
        case "slave.up":
          return;
        case "slave.lost":
          write(`[mnt] ${event.host}:${event.slot}: slave lost (${event.reason}); ${event.requeued} ops re-queued`);
          return;
        case "fatal":
          return; // the exit message says it
        default: {
          const never: never = event;
          return never;
        }
      }
    },
  };
}
