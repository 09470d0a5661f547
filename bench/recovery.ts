// `npm run bench:recovery`: how long the runtime takes to recover after a slave or an agent is
// killed while a job runs, next to the floor for replacing a process (a bare `node` start).
//
// A job of 1 ms ops runs without end on 2 local slaves. Kills are spaced: the next one comes only
// after the last one was fully recovered and a random 50–150 ms passed. For each kill:
//   detected  — SIGKILL sent → the runtime declared the slave lost (slave.lost event);
//   re-run    — SIGKILL sent → every op that was in flight on it has its result from another slave;
//   replaced  — SIGKILL sent → a new slave in the same slot took work (slave.up event).
// Results go to docs/RELIABILITY.md with the command that produced them.
import { spawn } from "node:child_process";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { localConnector } from "../core/connections/local.ts";
import { createMasterApi } from "../core/runtime/master-api.ts";
import { loadProgram } from "../core/runtime/run-program.ts";
import type { RuntimeEvent } from "../core/runtime/runtime.ts";
import { bundleProgram } from "../toolchain/build/bundle-program.ts";
import { agentBundle } from "../toolchain/own-files.ts";
import { startRuntime, stopRuntime } from "./cluster.ts";
import { formatTable, percentile, sortNumbers } from "./stats.ts";
import { seededRandom } from "../test/helpers/seeded-random.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const SLAVE_KILLS = Number(process.env.KILLS ?? 40);
const AGENT_KILLS = Number(process.env.AGENT_KILLS ?? 5);
const STOPS = Number(process.env.STOPS ?? 3);
const OP_MS = 1;
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Recovery {
  detectedMs: number;
  rerunMs: number;
  replacedMs: number;
  requeued: number;
}

const bundle = await bundleProgram(path.join(here, "programs", "busy.ts"), path.join(os.tmpdir(), "mnt-bench"));
const program = await loadProgram(bundle.file);
const random = seededRandom(42);

const slaveKills = await measureKills("slave SIGKILL", SLAVE_KILLS, (cluster) => cluster.randomSlave(), "SIGKILL");
const agentKills = await measureKills("agent SIGKILL", AGENT_KILLS, (cluster) => cluster.agentPid(), "SIGKILL");
const stops = await measureKills("slave SIGSTOP (default heartbeat limits)", STOPS, (cluster) => cluster.randomSlave(), "SIGSTOP");
const nodeStarts = await measureNodeStarts(20);

console.log(`node ${process.version}, ${os.availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)}; ops of ${OP_MS} ms on 2 local slaves\n`);
const rows: string[][] = [["fault", "samples", "detected (median)", "re-run done (median / p90)", "slave back (median / p90)", "ops re-run per fault"]];
for (const [name, samples] of [
  ["slave SIGKILL", slaveKills],
  ["agent SIGKILL", agentKills],
  ["slave SIGSTOP", stops],
] as const) {
  const stat = (pick: (r: Recovery) => number, p: number) => ms(percentile(sortNumbers(samples.map(pick)), p, true));
  rows.push([
    name,
    String(samples.length),
    stat((r) => r.detectedMs, 50),
    `${stat((r) => r.rerunMs, 50)} / ${stat((r) => r.rerunMs, 90)}`,
    `${stat((r) => r.replacedMs, 50)} / ${stat((r) => r.replacedMs, 90)}`,
    String(Math.round(samples.reduce((sum, r) => sum + r.requeued, 0) / samples.length)),
  ]);
}
console.log(formatTable(rows));
const nodeMedian = percentile(sortNumbers(nodeStarts), 50, true);
const slaveBack = percentile(sortNumbers(slaveKills.map((r) => r.replacedMs)), 50, true);
console.log();
console.log(
  formatTable([
    ["peer", "median", "slave back after SIGKILL ÷ peer"],
    ["bare `node` process start (spawn → first output)", ms(nodeMedian), `${(slaveBack / nodeMedian).toFixed(2)}×`],
  ]),
);

// ---------------------------------------------------------------------------------------------

interface Cluster {
  randomSlave(): number;
  agentPid(): number;
}

async function measureKills(name: string, count: number, target: (cluster: Cluster) => number, signal: NodeJS.Signals): Promise<Recovery[]> {
  const workerNames = Object.keys(program.worker).sort();
  const live = new Map<number, number>();
  const agentPids: number[] = [];
  let onEvent: (event: RuntimeEvent) => void = () => {};
  const runtime = await startRuntime({ host: "local", connect: localConnector(agentBundle, { onStart: (pid) => agentPids.push(pid) }), slots: 2, programPath: bundle.file }, workerNames, (r) =>
    r.onEvent((event) => {
      if (event.kind === "slave.up") live.set(event.slave, event.pid);
      if (event.kind === "slave.lost") live.delete(event.slave);
      if (event.kind === "agent.lost") live.clear();
      onEvent(event);
    }),
  );
  const m = createMasterApi(runtime, workerNames, []);
  const cluster: Cluster = {
    randomSlave: () => [...live.values()][Math.floor(random() * live.size)]!,
    agentPid: () => agentPids.at(-1)!,
  };

  let rerunsSeen = 0;
  let stopJob = false;
  const job = (async () => {
    async function* endless() {
      while (!stopJob) yield OP_MS;
    }
    for await (const { value } of m.map("busy", endless(), { concurrency: 64 })) if ((value as { attempt: number }).attempt > 0) rerunsSeen++;
  })();

  const samples: Recovery[] = [];
  await sleep(300);
  for (let k = 0; k < count; k++) {
    const pid = target(cluster);
    const rerunsBefore = rerunsSeen;
    let detected = 0;
    let replaced = 0;
    let requeued = 0;
    let lostSlaves = 0;
    let upSlaves = 0;
    onEvent = (event) => {
      const now = performance.now();
      if (event.kind === "slave.lost") {
        detected ||= now;
        requeued += event.requeued;
        lostSlaves++;
      }
      if (event.kind === "slave.up" && detected) {
        upSlaves++;
        if (upSlaves >= lostSlaves) replaced ||= now;
      }
    };
    const t0 = performance.now();
    process.kill(pid, signal);
    let rerunDone = 0;
    while (!(detected && replaced && rerunDone)) {
      if (detected && !rerunDone && rerunsSeen - rerunsBefore >= requeued) rerunDone = performance.now();
      await sleep(1);
    }
    samples.push({ detectedMs: detected - t0, rerunMs: rerunDone - t0, replacedMs: replaced - t0, requeued });
    log(`${name} ${k + 1}/${count}: detected ${ms(detected - t0)}, re-run done ${ms(rerunDone - t0)}, slave back ${ms(replaced - t0)}, ${requeued} ops re-run`);
    await sleep(50 + random() * 100);
  }
  stopJob = true;
  await job;
  await stopRuntime(runtime);
  return samples;
}

async function measureNodeStarts(count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let k = 0; k < count; k++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, ["-e", "process.stdout.write('x')"], { stdio: ["ignore", "pipe", "ignore"] });
      child.stdout.once("data", () => {
        samples.push(performance.now() - t0);
        resolve();
      });
    });
  }
  return samples;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}


