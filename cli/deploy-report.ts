// Renders a deploy's events: on a TTY a listr2 task list per host (connect, probe, node, transfer,
// verify, switch, each with its detail); in CI, with -q or without a TTY, plain `[host] …` lines.
import { Listr, type ListrTaskWrapper } from "listr2";
import type { DeployEvent, HostDeployed } from "../toolchain/deploy/events.ts";
import { formatBytes } from "./format.ts";

export interface DeployRenderer {
  event(event: DeployEvent): void;
  /** Resolves once the last host is drawn. */
  done(): Promise<void>;
}

export function summaryLine(result: HostDeployed): string {
  if (result.status === "failed") return `failed: ${result.error}`;
  const what = result.status === "unchanged" ? "up to date" : `${result.filesChanged} files, ${formatBytes(result.bytesSent)} sent${result.via ? ` (${result.via})` : ""}`;
  return `${result.target} release ${result.releaseId}: ${what} in ${(result.ms / 1000).toFixed(2)} s`;
}

export function plainDeployRenderer(write: (line: string) => void, quiet: boolean): DeployRenderer {
  return {
    event(event) {
      if (event.kind === "host.done") {
        if (!quiet || event.result.status === "failed") write(`[${event.result.host}] ${summaryLine(event.result)}`);
      } else if (!quiet && event.state !== "start") {
        write(`[${event.host}] ${event.step}${event.state === "skipped" ? " (skipped)" : ""}${event.detail ? `: ${event.detail}` : ""}`);
      }
    },
    done: async () => {},
  };
}

/** One listr2 task per host; its title follows the host's steps and ends with the summary line. */
export function listrDeployRenderer(hosts: string[]): DeployRenderer {
  const waiting = new Map<string, { task?: ListrTaskWrapper<unknown, never, never>; finish?: (result: HostDeployed) => void; pending: DeployEvent[] }>();
  for (const host of hosts) waiting.set(host, { pending: [] });
  const apply = (host: string, event: DeployEvent) => {
    const slot = waiting.get(host)!;
    if (!slot.task) return void slot.pending.push(event);
    if (event.kind === "step") slot.task.output = `${event.step}${event.detail ? `: ${event.detail}` : ""}`;
    else slot.finish?.(event.result);
  };
  const list = new Listr(
    hosts.map((host) => ({
      title: host,
      task: (_: unknown, task: ListrTaskWrapper<unknown, never, never>) =>
        new Promise<void>((resolve, reject) => {
          const slot = waiting.get(host)!;
          slot.task = task;
          slot.finish = (result) => {
            task.title = `${host}: ${summaryLine(result)}`;
            if (result.status === "failed") reject(new Error(result.error ?? "failed"));
            else resolve();
          };
          for (const event of slot.pending.splice(0)) apply(host, event);
        }),
    })),
    { concurrent: true, exitOnError: false },
  );
  // A failed host is drawn as failed; the command reports and exits, not listr2.
  const running = list.run().then(
    () => {},
    () => {},
  );
  return {
    event: (event) => apply(event.kind === "step" ? event.host : event.result.host, event),
    done: () => running,
  };
}
