// Compares the four-architecture job's results from remote hosts with the same job run on this
// machine alone, and says, per differing value, which op, which place (arch) and which value.
import type { JobResult } from "./four-arch-job.ts";

/** What each place's host must say it is. */
export interface PlaceIdentity {
  arch: string;
  endianness: "LE" | "BE";
}

/** Differing lines shown per result; the rest are counted. */
const SHOWN_PER_RESULT = 3;

/** Every way `remote` differs from `local` (empty: equal, value by value), one line each. */
export function compareRuns(local: readonly JobResult[], remote: readonly JobResult[], places: Readonly<Record<string, PlaceIdentity>>): string[] {
  const problems: string[] = [];
  const key = (r: JobResult) => `${r.place} ${r.op}(${r.seed})`;
  const remoteByKey = new Map(remote.map((r) => [key(r), r]));
  for (const r of remote) if (!r.ok) problems.push(`${r.place}: ${r.op}(${r.seed}) failed on the hosts: ${r.error}`);
  for (const mine of local) {
    const label = `${mine.op}(${mine.seed})`;
    if (!mine.ok) {
      problems.push(`${mine.place}: ${label} failed in the local run: ${mine.error}`);
      continue;
    }
    const theirs = remoteByKey.get(key(mine));
    if (!theirs) {
      problems.push(`${mine.place}: ${label} has no result from the hosts`);
      continue;
    }
    if (!theirs.ok) continue;
    const expected = places[mine.place];
    const who = `${theirs.arch} (${theirs.host}, ${theirs.endianness})`;
    if (expected && (theirs.arch !== expected.arch || theirs.endianness !== expected.endianness)) {
      problems.push(`${mine.place}: ${label} ran on ${who}, not on a ${expected.arch} ${expected.endianness} host`);
    }
    problems.push(...differingLines(`${who}: ${label}: what the op computed on its host from what it received`, mine.seen!, theirs.seen!));
    problems.push(...differingLines(`${who}: ${label}: the value it sent back, as the master decoded it`, mine.echoSeen!, theirs.echoSeen!));
  }
  const localKeys = new Set(local.map(key));
  for (const r of remote) if (!localKeys.has(key(r))) problems.push(`${r.place}: ${r.op}(${r.seed}) came from the hosts but not from the local run`);
  return problems;
}

/** Lines of two observations that differ, first few shown as `path: remote … here …`. */
function differingLines(what: string, here: readonly string[], there: readonly string[]): string[] {
  const found: string[] = [];
  let count = 0;
  for (let i = 0; i < Math.max(here.length, there.length); i++) {
    if (here[i] === there[i]) continue;
    count++;
    if (found.length < SHOWN_PER_RESULT) found.push(`${what}: ${there[i] ?? "(nothing)"}; the local run has ${here[i] ?? "(nothing)"}`);
  }
  if (count > SHOWN_PER_RESULT) found.push(`${what}: and ${count - SHOWN_PER_RESULT} more differing lines of ${Math.max(here.length, there.length)}`);
  return found;
}
