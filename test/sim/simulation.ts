// One simulated run: the real Scheduler and SharedStore, driven by simulated hosts (cluster.ts) and
// a simulated main (program.ts) on a virtual clock, then checked (invariants.ts) and measured.
import { RUNTIME_DEFAULTS } from "../../core/runtime/runtime.ts";
import { Scheduler, type SchedulerOptions } from "../../core/runtime/scheduler/scheduler.ts";
import { SharedStore } from "../../core/runtime/shared-store.ts";
import { SimCluster } from "./cluster.ts";
import { Violations } from "./invariants.ts";
import { Meter } from "./meter.ts";
import { SimProgram } from "./program.ts";
import type { Scenario } from "./scenario.ts";
import { VirtualClock } from "./virtual-clock.ts";
import { countSchedulerLoops, stopCounting } from "./work-count.ts";

/** What the parts of a run share. */
export interface SimContext {
  scenario: Scenario;
  options: SchedulerOptions;
  clock: VirtualClock;
  meter: Meter;
  scheduler: Scheduler;
  store: SharedStore;
  violations: Violations;
  program: SimProgram;
  cluster: SimCluster;
  /** The run is being stopped (main is done, or a fatal error): rejections are expected. */
  closing: boolean;
}

export interface RunOptions {
  /** Time the scheduler's calls (off: counts only, a little faster). */
  timing?: boolean;
  /** Count the steps of the scheduler's loops (work-count.ts; slower). */
  countLoops?: boolean;
  /** How to replay this run, printed with its violations. */
  replay?: string;
  /** Called once everything is wired, before the run starts (to sample or trace it). */
  onStart?: (sim: SimContext) => void;
}

export interface SimReport {
  name: string;
  seed: number;
  hosts: number;
  slots: number;
  ops: number;
  faults: boolean;
  violations: string[];
  violationCount: number;
  replay: string;
  /** Virtual time from start until main ended (ms). */
  makespanMs: number;
  /** Total work divided by the slots' speed-weighted capacity while up: makespanRatio = makespanMs / idealMs. */
  idealMs: number;
  makespanRatio: number;
  schedulerMs: number;
  schedulerUsPerOp: number;
  callbackMs: number;
  /** Calls across the scheduler's boundary (+ loop steps when counted), per worker op. */
  workPerOp: number;
  work: { schedulerCalls: number; portCalls: number; clockCalls: number; settleCalls: number; iterations: number; events: number };
  /**
   * Where the capacity went, as fractions of the useful work (so makespanRatio = 1 + the three):
   * idle slots while main was issuing ops (ramp-up, dispatch bubbles), idle slots in the tail
   * (after main issued its last op: stragglers, re-runs at an older context version through
   * catch-up slaves, context acks), and busy slots that did no useful work (re-runs after a loss,
   * cancelled or timed-out runs, context ops). Times in virtual ms.
   */
  breakdown: {
    lastIssuedMs: number;
    idleQueued: number;
    idleTail: number;
    wasted: number;
    lastSendMs: number;
    lastCatchUpSendMs: number;
    catchUpSends: number;
    lastResultFastMs: number;
    lastResultSlowMs: number;
    lastSettled: string;
  };
  outcomes: SimProgram["outcomes"];
  cluster: SimCluster["counters"] & { hostsSetAside: number; hostsSetAsideHealthy: number };
  events: Record<string, number>;
  fatal: string | null;
}

export function runScenario(scenario: Scenario, run: RunOptions = {}): SimReport {
  const meter = new Meter(run.timing ?? true);
  const clock = new VirtualClock(meter);
  const violations = new Violations();
  const options: SchedulerOptions = { ...RUNTIME_DEFAULTS, ...scenario.options, workerNames: ["work"], contextNames: ["setup"] };
  const store = new SharedStore();
  const sim = { scenario, options, clock, meter, store, violations, closing: false } as SimContext;
  const events: Record<string, number> = {};
  let fatal: string | null = null;
  sim.cluster = new SimCluster(sim, scenario);
  sim.program = new SimProgram(sim, scenario.program, scenario.seed);
  sim.scheduler = new Scheduler(options, sim.cluster, clock, {
    emit(event) {
      events[event.kind] = (events[event.kind] ?? 0) + 1;
      if (event.kind === "fatal") {
        fatal = event.error.message;
        // Invariant 2: no fatal unless every host is gone.
        if (!sim.cluster.allHostsGone) violations.add(`fatal error while some host could still run ops: ${event.error.message}`);
      }
    },
    released: (op) => store.release(op.epoch),
    describeInput: (op) => `#${SimProgram.indexOf(op)}`,
  });
  if (run.countLoops) countSchedulerLoops(sim.scheduler, meter);

  const { program: plan } = scenario;
  const slots = scenario.hosts * scenario.slots;
  const meanSpeed = (scenario.speed[0] + scenario.speed[1]) / 2;
  const startup = scenario.connectMs[1] + scenario.startMs[1] + 4 * scenario.linkMs[1];
  const horizon = startup + (plan.ops * plan.meanOpMs) / Math.max(1, slots * meanSpeed * (1 - scenario.slowFraction * (1 - 1 / scenario.slowFactor)));
  sim.cluster.planFaults(horizon);
  // Invariant 6: the bound of virtual time within which every op must have settled.
  const limit = 120_000 + 20 * horizon + (scenario.contextMs * (plan.contextOps + 1) * 50);

  meter.enter();
  for (const host of sim.cluster.hosts) sim.scheduler.addHost(host.name, scenario.slots, host.tags);
  meter.exit();
  run.onStart?.(sim);
  let ended: "done" | "empty" | "limit" | "threw";
  try {
    sim.program.start();
    ended = clock.run(() => sim.program.finished, limit);
  } catch (error) {
    // The scheduler threw out of an event method: the real runtime would crash the master.
    violations.add(`the scheduler threw at ${clock.now().toFixed(1)} ms: ${(error as Error).stack ?? error}`);
    ended = "threw";
  }
  const replay = run.replay ?? `npm run sim -- --ci-seed ${scenario.seed}`;
  if (ended === "limit") violations.add(`no progress: at ${limit.toFixed(0)} ms of virtual time, ${sim.program.describeOutstanding()}`);
  else if (ended === "empty") violations.add(`deadlock: nothing left to happen at ${clock.now().toFixed(1)} ms, ${sim.program.describeOutstanding()}`);
  const makespan = sim.program.finished ? sim.program.finishedAt : clock.now();

  if (ended === "done") {
    if (!sim.scheduler.isIdle && !sim.scheduler.fatalError) violations.add(`main is done but the scheduler is not idle: ${JSON.stringify(sim.scheduler.stats())}`);
    const shared = sim.program.sharedLeft;
    // Invariant 4, the other way: what no op can read is freed.
    if (!fatal && shared.live > shared.keys) violations.add(`every op settled, yet the store holds ${shared.live} shared versions for ${shared.keys} keys`);
  }
  // Stop as runtime.stop does, and let what is in flight land: nothing may settle twice.
  sim.closing = true;
  sim.cluster.quiet = true;
  try {
    meter.enter();
    sim.scheduler.close("the run has ended");
    meter.exit();
    if (ended !== "threw") clock.run(() => false, clock.now() + 600_000);
  } catch (error) {
    violations.add(`the scheduler threw while the run ended, at ${clock.now().toFixed(1)} ms: ${(error as Error).stack ?? error}`);
  } finally {
    stopCounting();
  }

  const { cluster } = sim;
  const capacity = cluster.capacity.at(makespan);
  const work = sim.program.work;
  // Split where main issued its last op (integrals taken then); a run stopped early has no tail.
  const atSplit = sim.program.atLastIssue ?? { capacity: cluster.capacity.at(makespan), busy: cluster.busy.at(makespan) };
  const split = sim.program.atLastIssue ? sim.program.lastIssuedAt : makespan;
  const busy = cluster.busy.at(makespan);
  const share = (x: number) => (work > 0 ? x / work : 0);
  const breakdown = {
    lastIssuedMs: split,
    idleQueued: share(atSplit.capacity - atSplit.busy),
    idleTail: share(capacity - atSplit.capacity - (busy - atSplit.busy)),
    wasted: share(busy - work),
    lastSendMs: cluster.lastSendAt,
    lastCatchUpSendMs: cluster.lastCatchUpSendAt,
    catchUpSends: cluster.catchUpSends,
    lastResultFastMs: cluster.lastResultFast,
    lastResultSlowMs: cluster.lastResultSlow,
    lastSettled: sim.program.lastSettled,
  };
  const idealMs = work > 0 && capacity > 0 ? makespan * (work / capacity) : 0;
  const opsIssued = Math.max(1, plan.ops);
  return {
    name: scenario.name,
    seed: scenario.seed,
    hosts: scenario.hosts,
    slots: scenario.slots,
    ops: plan.ops,
    faults: scenario.faults !== null,
    violations: violations.list,
    violationCount: violations.count,
    replay,
    makespanMs: makespan,
    idealMs,
    makespanRatio: work > 0 ? capacity / work : 0,
    schedulerMs: meter.schedulerMs,
    schedulerUsPerOp: (meter.schedulerMs * 1000) / opsIssued,
    callbackMs: meter.callbackMs,
    workPerOp: meter.work / opsIssued,
    work: { schedulerCalls: meter.schedulerCalls, portCalls: meter.portCalls, clockCalls: meter.clockCalls, settleCalls: meter.settleCalls, iterations: meter.iterations, events: clock.eventsRun },
    breakdown,
    outcomes: sim.program.outcomes,
    cluster: { ...sim.cluster.counters, hostsSetAside: sim.cluster.hostsSetAside, hostsSetAsideHealthy: sim.cluster.hostsSetAsideHealthy },
    events,
    fatal,
  };
}

/** A failing run, as a test or the CLI prints it: the seed and the command that replays it. */
export function describeFailure(report: SimReport): string {
  const shown = report.violations.map((v) => `  - ${v}`).join("\n");
  const more = report.violationCount > report.violations.length ? `\n  … and ${report.violationCount - report.violations.length} more` : "";
  return `${report.name}: ${report.violationCount} invariant violation(s); replay with: ${report.replay}\n${shown}${more}`;
}
