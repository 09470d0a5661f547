// Summaries of V8 CPU profiles (`node --cpu-prof`) for the benchmark notes: per process, what share
// of its samples was busy, and the functions with the most self time. Used by bench/exec.ts
// (PROFILE_DIR) and runnable alone: `node --import=tsx bench/cpu-profile.ts DIR [TOP]`.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProcessSummary {
  file: string;
  role: string;
  totalMs: number;
  busyMs: number;
  /** CPU time the kernel counted (user + sys, all threads), when profile-hook.cjs wrote it. */
  cpuMs: number | null;
  /** Self time per function (name, file:line), busy samples only, largest first. */
  top: Array<{ name: string; ms: number; share: number }>;
}

/** The role of the process a profile came from: by its argv when known, else by what it ran. */
function roleOf(profile: Profile, argv: string[] | null): string {
  if (argv) {
    const [script = "", ...rest] = argv;
    if (script.endsWith("agent.cjs")) return rest.includes("--slave") ? "slave" : "agent";
    if (script.endsWith("mnt.js")) return "master (mnt exec)";
  }
  const names = new Set(profile.nodes.map((node) => node.callFrame.functionName));
  const urls = profile.nodes.map((node) => node.callFrame.url);
  if (names.has("runSlave")) return "slave";
  if (names.has("runAgent")) return "agent";
  if (urls.some((url) => /dist\/(cli|exec-[^/]*)\.js$/.test(url))) return "master (mnt exec)";
  if (urls.some((url) => url.includes("[worker eval]")) || urls.length < 40) return "thread (slave lifeline)";
  return "other";
}

export function summariseProfile(file: string, topN = 12): ProcessSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let totalUs = 0;
  let busyUs = 0;
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    totalUs += us;
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") continue;
    busyUs += us;
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules\/)?/, "")}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const top = [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  let cpuMs: number | null = null;
  let argv: string[] | null = null;
  try {
    const usage = JSON.parse(readFileSync(file.replace(/\.cpuprofile$/, ".usage.json"), "utf8")) as { argv: string[]; userMs: number; sysMs: number };
    cpuMs = usage.userMs + usage.sysMs;
    argv = usage.argv;
  } catch {
    // A profile from --cpu-prof has no usage beside it.
  }
  return { file, role: roleOf(profile, argv), totalMs: totalUs / 1000, busyMs: busyUs / 1000, cpuMs, top };
}

/** Every profile in `dir`, as markdown: one line per process, then its top functions. */
export function summariseProfiles(dir: string, topN = 12): string {
  const files = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
  const summaries = files.map((name) => summariseProfile(path.join(dir, name), topN)).sort((a, b) => b.busyMs - a.busyMs);
  const out: string[] = [];
  for (const s of summaries) {
    const cpu = s.cpuMs === null ? "" : `, ${s.cpuMs.toFixed(0)} ms CPU (all threads, kernel's count)`;
    out.push(`### ${s.role} — ${s.busyMs.toFixed(0)} ms busy of ${s.totalMs.toFixed(0)} ms profiled (${((100 * s.busyMs) / s.totalMs).toFixed(0)}%)${cpu} — ${path.basename(s.file)}`);
    out.push("");
    out.push("| self time | % of busy | function |");
    out.push("|---:|---:|---|");
    for (const entry of s.top) out.push(`| ${entry.ms.toFixed(0)} ms | ${(100 * entry.share).toFixed(1)}% | \`${entry.name}\` |`);
    out.push("");
  }
  return out.join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, top] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write("usage: node --import=tsx bench/cpu-profile.ts DIR [TOP]\n");
    process.exit(64);
  }
  console.log(summariseProfiles(dir, Number(top ?? 12)));
}
