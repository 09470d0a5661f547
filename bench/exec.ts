// `npm run bench:exec`: Marionette through the path users take, `node bin/mnt.js exec program.ts`,
// next to bare peers in the same run, in interleaved rounds, reported as ratios.
//
// Each program (bench/programs/exec-*.ts) measures itself inside main and prints one `BENCH {…}`
// line, so process start-up is not in the throughput, latency, ray-tracer or shared-data figures;
// the one-op case times the whole command instead (wall, and CPU of the whole process tree).
//
//   no-op ops/s (window of 1,000 outstanding m.worker.noop(), --slots 2)   vs fork IPC pool of 2, raw batched pipe echo
//   … the same with --trace and --joblog                                  vs mnt exec without them (tracing's cost)
//   sequential p50 (one op at a time)                                     vs fork IPC's p50
//   ray tracer, 660 tiles of 16×16 (~3 ms each) at 1 and 2 slots          vs 1 and 2 bare forked processes
//   shared data, one Float64Array set and read by both slaves              vs raw pipe bytes into a node child
//   one-op program: wall and CPU (user+sys, whole tree)                   vs bare node forking one child, one message
//   master memory per queued op (1,000,000 m.worker calls; m.map)
//   mnt exec --hosts start-up on 3 lab hosts (first op run on each)       vs 3 parallel `ssh host node -e`
//
// Environment: ROUNDS (3), OPS (200000), SHARED_MIB (256), ONE_OP_RUNS (7), MEMORY_OPS (1000000),
// STARTS (5), ONLY (comma-separated: noop,raytrace,shared,oneop,memory,ssh; ssh needs the lab's
// tools and root, see test/lab/lab.ts, and is skipped with a note without them), PROFILE_DIR (CPU profiles of every
// process of one noop and one ray-tracer run, summarised at the end: see bench/cpu-profile.ts).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { summariseProfiles } from "./cpu-profile.ts";
import { runForkIpcPeer } from "./peers/fork-ipc.ts";
import { runForkRaytracePeer } from "./peers/fork-raytrace.ts";
import { runRawPipeBytesPeer } from "./peers/raw-pipe-bytes.ts";
import { runRawPipeEchoPeer } from "./peers/raw-pipe-echo.ts";
import { mntFirstOps, parallelSshNode } from "./ssh-startup.ts";
import { formatMiBps, formatOps, formatRatio, formatTable, formatUs, percentile, sortNumbers, type Method, type PeerResult } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const MNT = path.join(repo, "bin", "mnt.js");
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SHARED_MIB = Number(process.env.SHARED_MIB ?? 256);
const ONE_OP_RUNS = Number(process.env.ONE_OP_RUNS ?? 7);
const MEMORY_OPS = Number(process.env.MEMORY_OPS ?? 1_000_000);
const STARTS = Number(process.env.STARTS ?? 5);
const ONLY = new Set((process.env.ONLY ?? "noop,raytrace,shared,oneop,memory,ssh").split(","));
const PROFILE_DIR = process.env.PROFILE_DIR;
const METHOD: Partial<Method> = { inFlight: 1000, ops: Number(process.env.OPS ?? 200_000) };
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const median = (values: number[]) => percentile(sortNumbers(values), 50, true);
const range = (values: number[], digits = 2) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

interface MntRun {
  /** The parsed `BENCH {…}` line. */
  result: Record<string, unknown>;
}

/** `node [nodeFlags] bin/mnt.js exec <program> --slots N -q -- args`, as a user runs it (CI=true: no progress line). */
function mntExec(program: string, slots: number, args: string[], options: { nodeFlags?: string[]; env?: NodeJS.ProcessEnv; mntFlags?: string[] } = {}): Promise<MntRun> {
  const argv = [...(options.nodeFlags ?? []), MNT, "exec", path.join(here, "programs", program), "--slots", String(slots), "-q", ...(options.mntFlags ?? []), "--", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, CI: "true", ...options.env } });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("BENCH "));
      if (code !== 0 || !line) return reject(new Error(`mnt exec ${program} exited ${code}${line ? "" : " without a BENCH line"}: ${out.slice(-500)}`));
      resolve({ result: JSON.parse(line.slice(6)) as Record<string, unknown> });
    });
  });
}

/** Wall time and CPU (user+sys of every process of the tree) of one command: bench/peers/tree-usage.py. */
function treeUsage(command: string[], env: NodeJS.ProcessEnv = {}): Promise<{ wallMs: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", [path.join(here, "peers", "tree-usage.py"), ...command], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CI: "true", ...env } });
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", (error) => reject(new Error(`python3 (bench/peers/tree-usage.py) is needed for the one-op figures: ${error.message}`)));
    child.on("close", () => {
      const last = err.trim().split("\n").at(-1) ?? "";
      try {
        const usage = JSON.parse(last) as { code: number; wallS: number; userS: number; sysS: number };
        if (usage.code !== 0) throw new Error(`exited ${usage.code}`);
        resolve({ wallMs: usage.wallS * 1000, cpuMs: (usage.userS + usage.sysS) * 1000 });
      } catch (error) {
        reject(new Error(`${command.join(" ")}: ${(error as Error).message}\n${err.slice(-1000)}`));
      }
    });
  });
}

const rows: string[][] = [];
const section = (title: string) => rows.push([`**${title}**`, "", "", ""]);
const row = (name: string, value: string, peer: string, ratio: string) => rows.push([name, value, peer, ratio]);

// Warm the build cache (and show a failing program before any timing).
await mntExec("one-op.ts", 1, []).catch(() => undefined);

if (ONLY.has("noop")) {
  const ours: PeerResult[] = [];
  const fork: PeerResult[] = [];
  const echo: PeerResult[] = [];
  const traced: PeerResult[] = [];
  const recordsDir = mkdtempSync(path.join(os.tmpdir(), "mnt-bench-trace-"));
  const records = ["--trace", path.join(recordsDir, "trace.json"), "--joblog", path.join(recordsDir, "ops.jsonl")];
  for (let round = 1; round <= ROUNDS; round += 1) {
    ours.push((await mntExec("exec-noop.ts", 2, ["2", JSON.stringify(METHOD)])).result as unknown as PeerResult);
    traced.push((await mntExec("exec-noop.ts", 2, ["2", JSON.stringify(METHOD)], { mntFlags: records })).result as unknown as PeerResult);
    fork.push(await runForkIpcPeer({ children: 2, method: METHOD }));
    echo.push(await runRawPipeEchoPeer({ method: METHOD }));
    log(`no-op round ${round}: mnt exec ${formatOps(ours.at(-1)!.opsPerSec)} ops/s p50 ${formatUs(ours.at(-1)!.p50Us)}, with --trace --joblog ${formatOps(traced.at(-1)!.opsPerSec)} p50 ${formatUs(traced.at(-1)!.p50Us)}, fork IPC ${formatOps(fork.at(-1)!.opsPerSec)} p50 ${formatUs(fork.at(-1)!.p50Us)}, raw echo ${formatOps(echo.at(-1)!.opsPerSec)}`);
  }
  const ops = (list: PeerResult[]) => median(list.map((r) => r.opsPerSec));
  const p50 = (list: PeerResult[]) => median(list.map((r) => r.p50Us));
  const perRound = (a: PeerResult[], b: PeerResult[], key: "opsPerSec" | "p50Us") => a.map((r, i) => r[key] / b[i]![key]);
  section(`no-op worker ops, window of 1,000, --slots 2 (median of ${ROUNDS} rounds; ratio range over rounds)`);
  row("mnt exec: ops/s", formatOps(ops(ours)), "", "");
  row("… ÷ fork IPC pool of 2 children", formatOps(ops(ours)), formatOps(ops(fork)), `${formatRatio(ops(ours), ops(fork))} (${range(perRound(ours, fork, "opsPerSec"))})`);
  row("… ÷ raw batched msgpack echo over pipes", formatOps(ops(ours)), formatOps(ops(echo)), `${formatRatio(ops(ours), ops(echo))} (${range(perRound(ours, echo, "opsPerSec"))})`);
  row("sequential p50 ÷ fork IPC's p50", formatUs(p50(ours)), formatUs(p50(fork)), `${formatRatio(p50(ours), p50(fork))} (${range(perRound(ours, fork, "p50Us"))})`);
  row("sequential p99 (mnt, fork IPC)", formatUs(median(ours.map((r) => r.p99Us))), formatUs(median(fork.map((r) => r.p99Us))), "");
  // Tracing's cost: the same run with --trace and --joblog, against mnt exec without them (target ≥ 0.85×).
  row("with --trace --joblog: ops/s ÷ without", formatOps(ops(traced)), formatOps(ops(ours)), `${formatRatio(ops(traced), ops(ours))} (${range(perRound(traced, ours, "opsPerSec"))})`);
  row("with --trace --joblog: sequential p50 ÷ without", formatUs(p50(traced)), formatUs(p50(ours)), `${formatRatio(p50(traced), p50(ours))} (${range(perRound(traced, ours, "p50Us"))})`);
  rmSync(recordsDir, { recursive: true, force: true });
}

if (ONLY.has("raytrace")) {
  const times = { mnt1: [] as number[], mnt2: [] as number[], fork1: [] as number[], fork2: [] as number[] };
  const sums = new Set<number>();
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const [key, run] of [
      ["mnt1", () => mntExec("exec-raytrace.ts", 1, ["1"]).then((r) => r.result as { ms: number; checksum: number })],
      ["mnt2", () => mntExec("exec-raytrace.ts", 2, ["2"]).then((r) => r.result as { ms: number; checksum: number })],
      ["fork1", () => runForkRaytracePeer(1)],
      ["fork2", () => runForkRaytracePeer(2)],
    ] as const) {
      const result = await run();
      times[key].push(result.ms);
      sums.add(result.checksum);
    }
    log(`ray tracer round ${round}: mnt ${times.mnt1.at(-1)!.toFixed(0)} / ${times.mnt2.at(-1)!.toFixed(0)} ms, fork ${times.fork1.at(-1)!.toFixed(0)} / ${times.fork2.at(-1)!.toFixed(0)} ms (1 / 2 processes)`);
  }
  if (sums.size !== 1) throw new Error(`the ray tracer rendered different images: checksums ${[...sums].join(", ")}`);
  const speedup = (one: number[], two: number[]) => one.map((t, i) => t / two[i]!);
  const ourSpeedup = speedup(times.mnt1, times.mnt2);
  const peerSpeedup = speedup(times.fork1, times.fork2);
  section(`ray tracer, 660 tiles of 16×16 as worker ops (median of ${ROUNDS} rounds)`);
  row("1 slot vs 1 bare forked process", `${median(times.mnt1).toFixed(0)} ms`, `${median(times.fork1).toFixed(0)} ms`, formatRatio(median(times.mnt1), median(times.fork1)));
  row("2 slots vs 2 bare forked processes (time ratio)", `${median(times.mnt2).toFixed(0)} ms`, `${median(times.fork2).toFixed(0)} ms`, `${formatRatio(median(times.mnt2), median(times.fork2))} (${range(times.mnt2.map((t, i) => t / times.fork2[i]!))})`);
  row("speedup 1→2 (ours ÷ theirs)", `${median(ourSpeedup).toFixed(2)}×`, `${median(peerSpeedup).toFixed(2)}×`, `${formatRatio(median(ourSpeedup), median(peerSpeedup))} (${range(ourSpeedup.map((s, i) => s / peerSpeedup[i]!))})`);
}

if (ONLY.has("shared")) {
  const ours: number[] = [];
  const pipe: number[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const run = (await mntExec("exec-shared.ts", 2, ["2", String(SHARED_MIB)])).result as { mibPerSec: number; slavesThatRead: number };
    if (run.slavesThatRead !== 2) log(`shared round ${round}: only ${run.slavesThatRead} slave read the value`);
    ours.push(run.mibPerSec);
    pipe.push((await runRawPipeBytesPeer({ sink: "node", bytes: SHARED_MIB * 2 ** 20 })).mibPerSec);
    log(`shared round ${round}: mnt ${formatMiBps(ours.at(-1)!)}, raw pipe ${formatMiBps(pipe.at(-1)!)}`);
  }
  section(`shared data, one ${SHARED_MIB} MiB Float64Array set by main, read by both slaves (median of ${ROUNDS})`);
  row("MiB/s (value size ÷ time to the last slave's read) vs raw pipe into a node child", formatMiBps(median(ours)), formatMiBps(median(pipe)), `${formatRatio(median(ours), median(pipe))} (${range(ours.map((v, i) => v / pipe[i]!))})`);
}

if (ONLY.has("oneop")) {
  const mnt: Array<{ wallMs: number; cpuMs: number }> = [];
  const bare: Array<{ wallMs: number; cpuMs: number }> = [];
  const oneOp = path.join(here, "programs", "one-op.ts");
  await treeUsage([process.execPath, MNT, "exec", oneOp, "-q"]);
  for (let run = 1; run <= ONE_OP_RUNS; run += 1) {
    mnt.push(await treeUsage([process.execPath, MNT, "exec", oneOp, "-q"]));
    bare.push(await treeUsage([process.execPath, path.join(here, "peers", "fork-one.mjs")]));
    log(`one-op run ${run}: mnt ${mnt.at(-1)!.wallMs.toFixed(0)} ms wall, ${mnt.at(-1)!.cpuMs.toFixed(0)} ms CPU; bare fork ${bare.at(-1)!.wallMs.toFixed(0)} ms, ${bare.at(-1)!.cpuMs.toFixed(0)} ms CPU`);
  }
  const cpu = (list: typeof mnt) => median(list.map((u) => u.cpuMs));
  const wall = (list: typeof mnt) => median(list.map((u) => u.wallMs));
  section(`one-op program, whole command (build cache warm; median of ${ONE_OP_RUNS}; default slots = ${os.availableParallelism()})`);
  row("CPU, user+sys of every process: mnt exec one-op.ts vs node forking one child, one message", `${cpu(mnt).toFixed(0)} ms`, `${cpu(bare).toFixed(0)} ms`, formatRatio(cpu(mnt), cpu(bare)));
  row("wall time", `${wall(mnt).toFixed(0)} ms`, `${wall(bare).toFixed(0)} ms`, formatRatio(wall(mnt), wall(bare)));
}

if (ONLY.has("memory")) {
  section(`master memory, ${MEMORY_OPS.toLocaleString("en-US")} m.worker.noop(i) (node --expose-gc bin/mnt.js exec …)`);
  for (const mode of ["issue", "map"]) {
    const r = (await mntExec("exec-memory.ts", 2, ["2", String(MEMORY_OPS), mode], { nodeFlags: ["--expose-gc"] })).result as { heapBytesPerOp: number; rssBytesPerOp: number; heapMiB: number; rssMiB: number; gc: boolean };
    const what = mode === "issue" ? "issued at once, all queued: heap+external growth per op (rss growth)" : "through m.map (default concurrency): peak heap+external growth (rss)";
    row(what, mode === "issue" ? `${r.heapBytesPerOp.toFixed(0)} B (${r.rssBytesPerOp.toFixed(0)} B)` : `${r.heapMiB.toFixed(0)} MiB (${r.rssMiB.toFixed(0)} MiB)`, mode === "issue" ? "target ≤ 300 B" : "", mode === "issue" ? formatRatio(r.heapBytesPerOp, 300) : "");
  }
}

if (ONLY.has("ssh")) {
  // The lab's hosts are sshd processes in network namespaces on this machine (they share its cores).
  const { requireLabTools, startNetnsLab } = await import("../test/lab/lab.ts");
  let lab: Awaited<ReturnType<typeof startNetnsLab>> | null = null;
  try {
    requireLabTools();
    lab = await startNetnsLab(3);
  } catch (error) {
    log(`ssh start-up skipped: ${(error as Error).message.split("\n")[0]}`);
  }
  if (lab) {
    try {
      const hostsFile = path.join(lab.dir, "bench-hosts.yaml");
      lab.writeHostsYaml(hostsFile, { defaults: { slots: 2 } });
      // The first run deploys the release; the timed ones find it in place (checked, not sent).
      await mntFirstOps(hostsFile);
      const mnt: number[] = [];
      const ssh: number[] = [];
      for (let k = 1; k <= STARTS; k += 1) {
        mnt.push(await mntFirstOps(hostsFile));
        ssh.push(await parallelSshNode(lab));
        log(`ssh start ${k}: mnt exec --hosts ${mnt.at(-1)!.toFixed(0)} ms, 3 parallel ssh node ${ssh.at(-1)!.toFixed(0)} ms`);
      }
      section(`mnt exec --hosts start-up, 3 lab hosts (sshd in network namespaces on this machine), releases in place (median of ${STARTS})`);
      row("start to the first op run on every host vs 3 parallel `ssh host node -e` (OpenSSH)", `${median(mnt).toFixed(0)} ms`, `${median(ssh).toFixed(0)} ms`, `${formatRatio(median(mnt), median(ssh))} (${range(mnt.map((t, i) => t / ssh[i]!))})`);
    } finally {
      await lab.stop();
    }
  }
}

console.log(`node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "?"}), ${new Date().toISOString().slice(0, 10)}, ROUNDS=${ROUNDS}, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
console.log(formatTable([["through `node bin/mnt.js exec` …", "mnt", "peer", "mnt ÷ peer"], ...rows]));

if (PROFILE_DIR) {
  // CPU profiles of every process (master, agent, slaves) of one run of each: NODE_OPTIONS reaches
  // the agent and the slaves too, since they inherit the environment (it refuses --cpu-prof, so a
  // --require'd hook runs the profiler: bench/profile-hook.cjs).
  for (const [name, program, args] of [
    ["noop", "exec-noop.ts", ["2", JSON.stringify(METHOD)]],
    ["raytrace", "exec-raytrace.ts", ["2"]],
  ] as const) {
    const dir = path.resolve(PROFILE_DIR, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const hook = path.join(here, "profile-hook.cjs");
    await mntExec(program, 2, [...args], { env: { NODE_OPTIONS: `--require=${hook}`, MNT_PROFILE_DIR: dir } });
    log(`${name}: ${readdirSync(dir).filter((file) => file.endsWith(".cpuprofile")).length} profiles in ${dir}`);
    console.log(`\n## CPU profile, ${name} (mnt exec --slots 2)\n`);
    console.log(summariseProfiles(dir));
  }
}
