// `--require-all` once the run has started. The deploy's check (cli/remote-hosts.ts) refuses the
// run when a host cannot be reached or deployed; but a host that passed it can still never run an
// agent (it failed at every start until it was set aside), and the run then went on without it
// and exited 0 (issue 10). A host set aside before its agent was ever up was never usable: the run
// fails, naming it. A host that was up and was lost later is the runtime's to recover from, as
// without the flag; one that failed to start but joined on a retry was usable after all.
import { MntError } from "../core/errors.ts";
import type { RuntimeEvent } from "../core/runtime/runtime.ts";

export function requireAllWatch(fail: (error: MntError) => void): (event: RuntimeEvent) => void {
  const up = new Set<string>();
  return (event) => {
    if (event.kind === "agent.up") up.add(event.host);
    else if (event.kind === "host.aside" && !up.has(event.host)) {
      fail(new MntError("infrastructure", `--require-all: ${event.host} was set aside before its agent ever came up (${event.reason})`, "fix that host, or run without --require-all"));
    }
  };
}
