// npm run sim -- --hosts 2000 --slots 16 --ops 1000000 [--seed S] [--json] [--no-faults] [--slow-fraction 0.05]
// npm run sim -- --ci-seed S      replays one scenario of the test suite (test/sim/sim.test.ts)
//
// Runs the real scheduler against simulated hosts on a virtual clock, checks the invariants
// (invariants.ts), and reports the scheduler's cost per op, the makespan against the ideal and the
// peak memory. Narration goes to stderr; the result to stdout (with --json, its last line is one
// JSON object). Exit code 1 when an invariant was violated, 64 on a usage error.
import { parseArgs } from "node:util";
import { bigScenario, ciScenario, type Scenario } from "./scenario.ts";
import { describeFailure, runScenario } from "./simulation.ts";

function usage(message: string): never {
  process.stderr.write(`sim: ${message}\nusage: npm run sim -- --hosts N --slots N --ops N [--seed S] [--json] [--no-faults] [--slow-fraction F]\n       npm run sim -- --ci-seed S\n`);
  process.exit(64);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      hosts: { type: "string", default: "2000" },
      slots: { type: "string", default: "16" },
      ops: { type: "string", default: "1000000" },
      seed: { type: "string", default: "1" },
      json: { type: "boolean", default: false },
      "no-faults": { type: "boolean", default: false },
      "slow-fraction": { type: "string", default: "0.05" },
      "slow-factor": { type: "string", default: "5" },
      "mean-op-ms": { type: "string", default: "20" },
      "context-ops": { type: "string", default: "10" },
      "ci-seed": { type: "string" },
    },
    strict: true,
  }).values;
} catch (error) {
  usage((error as Error).message);
}

function int(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer ≥ ${min} (got ${text})`);
  return n;
}

function fraction(name: string, text: string, max = 1): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > max) usage(`--${name} must be a number in [0, ${max}] (got ${text})`);
  return n;
}

let scenario: Scenario;
let replay: string;
if (parsed["ci-seed"] !== undefined) {
  const seed = int("ci-seed", parsed["ci-seed"], 0);
  scenario = ciScenario(seed);
  replay = `npm run sim -- --ci-seed ${seed}`;
} else {
  const options = {
    hosts: int("hosts", parsed.hosts, 1),
    slots: int("slots", parsed.slots, 1),
    ops: int("ops", parsed.ops, 1),
    seed: int("seed", parsed.seed, 0),
    faults: !parsed["no-faults"],
    slowFraction: fraction("slow-fraction", parsed["slow-fraction"]),
    slowFactor: fraction("slow-factor", parsed["slow-factor"], 1000) || 1,
    meanOpMs: fraction("mean-op-ms", parsed["mean-op-ms"], 1e6),
    contextOps: int("context-ops", parsed["context-ops"], 0),
  };
  scenario = bigScenario(options);
  replay = `npm run sim -- --hosts ${options.hosts} --slots ${options.slots} --ops ${options.ops} --seed ${options.seed}${options.faults ? "" : " --no-faults"} --slow-fraction ${options.slowFraction} --slow-factor ${options.slowFactor} --mean-op-ms ${options.meanOpMs} --context-ops ${options.contextOps}`;
}

const f = scenario.faults;
process.stderr.write(
  `sim: seed ${scenario.seed}, ${scenario.hosts} hosts × ${scenario.slots} slots, ${scenario.program.ops} ops (mean ${scenario.program.meanOpMs} ms of work), ` +
    `${Math.round(scenario.slowFraction * 100)}% of hosts ${scenario.slowFactor}× slower, faults ${f ? "on" : "off"}\n`,
);
const started = performance.now();
const cpuStart = process.cpuUsage();
const report = runScenario(scenario, { replay });
const wallS = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
// The scheduler's share of the run's wall time, applied to the process's CPU time: what it cost
// when other processes share the cores (performance.now() then counts their time slices too).
const cpuS = (cpu.user + cpu.system) / 1e6;
const schedulerCpuUsPerOp = (report.schedulerMs / 1000 / wallS) * cpuS * 1e6 / Math.max(1, report.ops);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

function breakdown(r: typeof report): string {
  const b = r.breakdown;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return (
    `  where it went (× the useful work): idle while main was issuing ${b.idleQueued.toFixed(3)}, idle after its last op (at ${s(b.lastIssuedMs)}) ${b.idleTail.toFixed(3)}, busy without useful work ${b.wasted.toFixed(3)}; ` +
    `last op from the queue sent at ${s(b.lastSendMs)}, ${b.catchUpSends} ops re-run at an older context version through catch-up slaves (last sent at ${s(b.lastCatchUpSendMs)}); ` +
    `last result from a fast host at ${s(b.lastResultFastMs)}, from a slow host at ${s(b.lastResultSlowMs)}; last to settle: ${b.lastSettled}`
  );
}

const lines = [
  report.violationCount === 0 ? "invariants: all held" : describeFailure(report),
  `scheduler: ${report.schedulerUsPerOp.toFixed(2)} µs per op (${report.schedulerMs.toFixed(0)} ms in all: performance.now() around every call into the scheduler and every timer or soon action it set, minus the simulated port's and the program's callbacks); ` +
    `${schedulerCpuUsPerOp.toFixed(2)} µs of CPU per op (its share of the wall time × the process's CPU time: the two differ when other processes share the cores); ${report.workPerOp.toFixed(1)} boundary calls per op`,
  `makespan: ${(report.makespanMs / 1000).toFixed(2)} s virtual, ideal ${(report.idealMs / 1000).toFixed(2)} s (useful work ÷ speed-weighted capacity of the slots while up): ratio ${report.makespanRatio.toFixed(3)}`,
  breakdown(report),
  `peak RSS: ${peakRssMiB.toFixed(0)} MiB; simulation took ${wallS.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (${report.work.events} timed events)`,
  `outcomes: ${Object.entries(report.outcomes).map(([k, v]) => `${k} ${v}`).join(", ")}`,
  `faults: ${Object.entries(report.cluster).map(([k, v]) => `${k} ${v}`).join(", ")}; scheduler events: ${Object.entries(report.events).map(([k, v]) => `${k} ${v}`).join(", ")}${report.fatal ? `; fatal: ${report.fatal}` : ""}`,
];
if (parsed.json) {
  process.stderr.write(lines.join("\n") + "\n");
  const result = {
    hosts: report.hosts,
    slots: report.slots,
    ops: report.ops,
    seed: report.seed,
    faults: report.faults,
    violations: report.violationCount,
    schedulerUsPerOp: Number(report.schedulerUsPerOp.toFixed(3)),
    makespanRatio: Number(report.makespanRatio.toFixed(4)),
    peakRssMiB: Number(peakRssMiB.toFixed(1)),
  };
  process.stdout.write(JSON.stringify(result) + "\n");
} else {
  process.stdout.write(lines.join("\n") + "\n");
}
process.exitCode = report.violationCount > 0 ? 1 : 0;
