// Marionette through srun (a real Slurm: test/slurm-lab/lab.ts) next to the same through SSH (an
// sshd host in a network namespace: test/lab/lab.ts) and on this machine, in one run, rounds
// interleaved, each through the path users take: `node bin/mnt.js exec program.ts`.
//
//   no-op ops/s (window of 1,000 outstanding m.worker.noop(), 2 slaves), sequential p50/p99
//   shared data: one Float64Array set and read by both slaves (MiB/s, set → last read)
//   the channels' own rate for bytes into a host: `srun -u -w n1 cat > /dev/null` (the step's
//   start included, ~0.1 s) and `ssh host 'cat > /dev/null'`, fed the same number of bytes
//
// Each target runs 2 slaves on one host: `--slots 2`; `--hosts` with one lab host of `slots: 2`;
// `--slurm "-N 1 -n 2"` (salloc for one node with 2 CPUs), once with the release where the node
// sees it (shared data then goes as files on the shared file system) and once under /tmp (the
// release and shared data go through srun). The programs measure themselves inside
// main (bench/programs/exec-*.ts), so start-up (salloc, srun, SSH, deploy) is not in the figures.
//
//   npm run build && node --import=tsx bench/slurm.ts
// Environment: ROUNDS (3), OPS (100000), SHARED_MIB (64). Needs root, Slurm and the lab's tools.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { requireLabTools, startNetnsLab } from "../test/lab/lab.ts";
import { requireSlurmTools, startSlurmLab } from "../test/slurm-lab/lab.ts";
import { formatMiBps, formatOps, formatTable, formatUs, percentile, sortNumbers } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const MNT = path.join(here, "..", "bin", "mnt.js");
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const OPS = Number(process.env.OPS ?? 100_000);
const SHARED_MIB = Number(process.env.SHARED_MIB ?? 64);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const median = (values: number[]) => percentile(sortNumbers(values), 50, true);
const range = (values: number[], digits = 0) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

/** `node bin/mnt.js exec <program> <placement> -q -- args`; the program's `BENCH {…}` line. */
function mntExec(program: string, placement: string[], args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, number>> {
  const argv = [MNT, "exec", path.join(here, "programs", program), ...placement, "-q", "--", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...env, CI: "true" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("BENCH "));
      if (code !== 0 || !line) return reject(new Error(`mnt exec ${program} ${placement.join(" ")} exited ${code}: ${err.slice(-800)}`));
      resolve(JSON.parse(line.slice(6)) as Record<string, number>);
    });
  });
}

requireLabTools();
requireSlurmTools();
const slurm = await startSlurmLab();
const ssh = await startNetnsLab(1);
try {
  const hostsFile = path.join(ssh.dir, "bench-hosts.yaml");
  ssh.writeHostsYaml(hostsFile, { defaults: { slots: 2 } });
  const targets = [
    { name: "this machine (--slots 2)", placement: ["--slots", "2"] },
    { name: "SSH (--hosts: 1 host, slots: 2)", placement: ["--hosts", hostsFile] },
    { name: 'Slurm (--slurm "-N 1 -n 2"): shared data as files', placement: ["--slurm", "-N 1 -n 2"] },
    // The release under this machine's /tmp, which the node cannot see: sent through srun, and
    // shared data with it (what every node gets without a shared file system).
    { name: "Slurm, release not shared: shared data through srun", placement: ["--out", mkdtempSync("/tmp/mnt-bench-slurm-"), "--slurm", "-N 1 -n 2"] },
  ];
  const env = slurm.env;
  const noop = new Map(targets.map((t) => [t.name, { ops: [] as number[], p50: [] as number[], p99: [] as number[] }]));
  const shared = new Map(targets.map((t) => [t.name, [] as number[]]));
  // A first run of each builds and deploys (not timed).
  for (const target of targets) await mntExec("exec-noop.ts", target.placement, ["2", JSON.stringify({ ops: 1000, warmupOps: 100, latencySamples: 100, latencyWarmup: 10 })], env);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of targets) {
      const r = await mntExec("exec-noop.ts", target.placement, ["2", JSON.stringify({ inFlight: 1000, ops: OPS })], env);
      const entry = noop.get(target.name)!;
      entry.ops.push(r.opsPerSec!);
      entry.p50.push(r.p50Us!);
      entry.p99.push(r.p99Us!);
      const s = await mntExec("exec-shared.ts", target.placement, ["2", String(SHARED_MIB)], env);
      shared.get(target.name)!.push(s.mibPerSec!);
      log(`round ${round} ${target.name}: ${formatOps(r.opsPerSec!)} ops/s, p50 ${formatUs(r.p50Us!)}, shared ${formatMiBps(s.mibPerSec!)}`);
    }
  }
  // The channels alone, same size as the shared value, after mnt's rounds.
  const payload = Buffer.alloc(SHARED_MIB * 2 ** 20, 7);
  const srunCat = await timedCat(["srun", "-u", "-N1", "-n1", "-w", "n1", "sh", "-c", "cat > /dev/null"], env, payload);
  const sshCat = await timedCat(["ssh", "-F", ssh.sshConfigFile, ssh.hosts[0]!.name, "cat > /dev/null"], env, payload);
  log(`srun cat ${formatMiBps(srunCat)}, ssh cat ${formatMiBps(sshCat)}`);
  console.log(`node ${process.version}, ${os.availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)}; ${ROUNDS} rounds interleaved, medians (range)\n`);
  console.log(
    formatTable([
      ["target (2 slaves on one host)", "no-op ops/s", "sequential p50", "p99", `shared data (${SHARED_MIB} MiB into both slaves)`],
      ...targets.map((t) => {
        const n = noop.get(t.name)!;
        const s = shared.get(t.name)!;
        return [t.name, `${formatOps(median(n.ops))} (${range(n.ops)})`, formatUs(median(n.p50)), formatUs(median(n.p99)), `${formatMiBps(median(s))} (${range(s, 1)})`];
      }),
    ]),
  );
  console.log();
  console.log(
    formatTable([
      [`bytes into a host (${SHARED_MIB} MiB, one stream)`, "throughput"],
      ["srun -u -w n1 sh -c 'cat > /dev/null' (step start included)", formatMiBps(srunCat)],
      ["ssh host 'cat > /dev/null' (OpenSSH)", formatMiBps(sshCat)],
    ]),
  );
} finally {
  await ssh.stop();
  await slurm.stop();
}

/** MiB/s of `argv` reading `payload` on its stdin to the end. */
function timedCat(argv: string[], env: NodeJS.ProcessEnv, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "ignore", "inherit"], env });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(" ")} exited ${code}`));
      resolve(payload.length / 2 ** 20 / (Number(process.hrtime.bigint() - started) / 1e9));
    });
    child.stdin.end(payload);
  });
}
