// Start-up on many hosts (issue 10): time from starting `mnt exec --hosts` to the first op having
// run on EVERY host, for 5, 20 and 50 lab hosts (network namespaces on this machine, 1 slot each),
// next to the same number of parallel `ssh host node -e …` (OpenSSH starting Node.js on each host:
// the floor for anything that starts a process there), in the same run, rounds interleaved. Also
// counts the [mnt] lines that are not the usual ones (a spurious failure shows there).
//
//   npm run build && node --import=tsx bench/many-hosts.ts        (HOSTS=5,20,50 ROUNDS=3)
//
// Every host of the lab shares this machine's cores: with 50 hosts, 50 agents and 50 slaves start
// on 2 cores, so the figures say more about this machine than about 50 real hosts; the ratio to
// parallel ssh, measured alongside, is what carries over.
import path from "node:path";
import { requireLabTools, startNetnsLab } from "../test/lab/lab.ts";
import { mntFirstOpsArgs, mntFirstOpsRun, parallelSshNode } from "./ssh-startup.ts";
import { formatRatio, percentile } from "./stats.ts";

const COUNTS = (process.env.HOSTS ?? "5,20,50").split(",").map(Number);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** [mnt] lines other than a deploy, an agent coming up and the summary: failures, losses, retries. */
function unusual(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.trim() !== "" && !/^\[mnt\] (\S+: deployed |\S+: agent up |done in )/.test(line));
}

requireLabTools();
const max = Math.max(...COUNTS);
const lab = await startNetnsLab(max);
try {
  const files = new Map(
    COUNTS.map((count) => {
      const file = path.join(lab.dir, `hosts-${count}.yaml`);
      lab.writeHostsYaml(file, { defaults: { slots: 1 }, only: lab.hosts.slice(0, count).map((h) => h.name) });
      return [count, file];
    }),
  );
  // Cold: the release goes to every host first (then the timed runs find it in place, checked).
  const cold = await mntFirstOpsRun(files.get(max)!, max, ["--require-all"]);
  log(`cold start, ${max} hosts (release sent to each): ${cold.ms} ms; unusual lines: ${unusual(cold.stderr).length}`);
  const mnt = new Map<number, number[]>(COUNTS.map((c) => [c, []]));
  const ssh = new Map<number, number[]>(COUNTS.map((c) => [c, []]));
  const odd = new Map<number, string[]>(COUNTS.map((c) => [c, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const count of COUNTS) {
      const run = await mntFirstOpsRun(files.get(count)!, count, ["--require-all"]);
      mnt.get(count)!.push(run.ms);
      odd.get(count)!.push(...unusual(run.stderr));
      ssh.get(count)!.push(await parallelSshNode(lab, lab.hosts.slice(0, count)));
      log(`round ${round}, ${count} hosts: mnt ${run.ms} ms, parallel ssh node ${ssh.get(count)!.at(-1)} ms`);
    }
  }
  const median = (values: number[]) => percentile(values, 50);
  const range = (values: number[]) => `${Math.min(...values)}–${Math.max(...values)}`;
  const rows = COUNTS.map((count) => {
    const [m, s] = [mnt.get(count)!, ssh.get(count)!];
    return [String(count), `${median(m).toFixed(0)} ms (${range(m)})`, `${median(s).toFixed(0)} ms (${range(s)})`, formatRatio(median(m), median(s)), String(odd.get(count)!.length)];
  });
  console.log(`command: node ${mntFirstOpsArgs("hosts-N.yaml", 0).map((a) => path.relative(process.cwd(), a) || a).join(" ").replace(/ -- 0$/, " --require-all -- N")}`);
  console.log(`cold start, ${max} hosts, release sent to each: ${cold.ms} ms (${unusual(cold.stderr).length} unusual lines)`);
  // A Markdown table, as it goes into docs/BENCHMARKS.md.
  const table = [["hosts", "mnt exec --hosts: first op on every host, median (min–max)", "as many parallel `ssh host node -e …`", "ratio", "unusual [mnt] lines"], ["---", "---", "---", "---", "---"], ...rows];
  for (const row of table) console.log(`| ${row.join(" | ")} |`);
  for (const [count, lines] of odd) for (const line of lines) console.log(`  ${count} hosts: ${line}`);
} finally {
  await lab.stop();
}
