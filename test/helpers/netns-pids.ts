// The processes of a lab host (test/lab/lab.ts, netns kind): what runs in its network namespace.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { LabHost } from "../lab/lab.ts";

/** Pids in the host's network namespace whose command line contains `what` (zombies excluded). */
export function pidsOn(host: LabHost, what: string): number[] {
  const pids = execFileSync("ip", ["netns", "pids", host.netns!], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(what) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
    } catch {
      return false;
    }
  });
}
