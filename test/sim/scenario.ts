// What a simulated run is made of: the cluster (hosts, their speeds, latencies, tags, fates), the
// faults, and the program's main. Two makers: `ciScenario(seed)`, small and varied, for the test
// suite; `bigScenario(...)`, the `npm run sim` run.
import { Random } from "./random.ts";

export interface FaultPlan {
  /** Slave crashes (a signal; the op it was running is blamed), as a fraction of all slots. */
  slaveCrashes: number;
  /** Agent losses (its slaves are gone; it comes back after `downMs`), as a fraction of hosts. */
  agentLosses: number;
  /** Link stalls (everything to and from a host held for `stallMs`), as a fraction of hosts. */
  stalls: number;
  /** Hosts whose every connection fails. */
  neverUp: number;
  /** Hosts that go down at a random time and never come back. */
  diesForever: number;
  downMs: [number, number];
  stallMs: [number, number];
}

export interface ProgramPlan {
  /** Worker ops main issues. */
  ops: number;
  /** Mean op size in ms of work at speed 1; sizes are log-normal with `sizeSigma`. */
  meanOpMs: number;
  sizeSigma: number;
  /** Ops in flight at most: a number, "auto" (m.map's default: 2 × pipeline capacity, at least 64), or Infinity (all at once). */
  window: number | "auto";
  /** Context ops issued between worker ops; a fraction of them awaited, a fraction throwing on every slave. */
  contextOps: number;
  awaitContext: number;
  throwingContext: number;
  /** Points where main awaits everything issued so far. */
  waits: number;
  /** Shared-data writes (over `sharedKeys` keys). */
  sharedSets: number;
  sharedKeys: number;
  /** Fractions of ops: thrown once by user code with `retries: 1`; thrown with no retries left. */
  retried: number;
  failing: number;
  /** Fraction of ops with a timeout (generous: many times their size). */
  timeouts: number;
  /** Ops that ignore cancellation and never end (always with a timeout: their slave is killed). */
  hangs: number;
  /** Ops that crash every slave that runs them. */
  poison: number;
  /** Fraction of ops main cancels some time after issuing them. */
  cancels: number;
  /** Fraction of ops asking for host tags (when hosts have tags), and ops asking for a tag no host has. */
  tagged: number;
  /** The tag sets tagged ops ask for (one picked per op). */
  tagChoices: string[][];
  impossibleTags: number;
  /** Hang, poison and impossible ops are placed among the first this fraction of ops (1: anywhere). */
  specialsWithin: number;
  /**
   * Fractions of ops too large for a small host (`Scenario.smallHosts`): an input it cannot hold
   * (never sent there), and a shared value it refuses when the op reads it (the op runs elsewhere).
   */
  largeInputs?: number;
  largeShared?: number;
}

export interface Scenario {
  name: string;
  seed: number;
  hosts: number;
  slots: number;
  slowFraction: number;
  slowFactor: number;
  /** Relative host speeds (uniform in this range), before slow hosts are slowed. */
  speed: [number, number];
  /** One-way link latency per host, ms. */
  linkMs: [number, number];
  connectMs: [number, number];
  startMs: [number, number];
  /** Context ops take this long (ms at speed 1) on a slave. */
  contextMs: number;
  /** Fractions of hosts tagged "gpu" and "ssd" (0: no tags). */
  tagFractions: { gpu: number; ssd: number };
  /** Fraction of hosts that cannot hold large values (a 32-bit host): their hello says so; 0 or absent: none. */
  smallHosts?: number;
  faults: FaultPlan | null;
  program: ProgramPlan;
  /** Scheduler options that differ from the runtime's defaults. */
  options?: { hangGraceMs?: number; maxDepth?: number; pipelineBudgetUs?: number };
}

export const DEFAULT_FAULTS: FaultPlan = {
  slaveCrashes: 0.02,
  agentLosses: 0.02,
  stalls: 0.02,
  neverUp: 0.005,
  diesForever: 0.005,
  downMs: [200, 2500],
  stallMs: [100, 3000],
};

export interface BigOptions {
  hosts: number;
  slots: number;
  ops: number;
  seed: number;
  faults: boolean;
  slowFraction: number;
  slowFactor?: number;
  meanOpMs?: number;
  contextOps?: number;
}

/** The `npm run sim` scenario: one m.map over all ops, a few context ops and shared writes, faults on. */
export function bigScenario(o: BigOptions): Scenario {
  return {
    name: `big ${o.hosts}x${o.slots} ops=${o.ops}`,
    seed: o.seed,
    hosts: o.hosts,
    slots: o.slots,
    slowFraction: o.slowFraction,
    slowFactor: o.slowFactor ?? 5,
    speed: [0.7, 1.3],
    linkMs: [0.1, 2],
    connectMs: [200, 1500],
    startMs: [50, 300],
    contextMs: 0.2,
    tagFractions: { gpu: 0.1, ssd: 0.2 },
    faults: o.faults ? DEFAULT_FAULTS : null,
    program: {
      ops: o.ops,
      meanOpMs: o.meanOpMs ?? 20,
      sizeSigma: 0.5,
      window: "auto",
      contextOps: o.contextOps ?? 10,
      awaitContext: 0,
      throwingContext: 0.1,
      waits: 0,
      sharedSets: 10,
      sharedKeys: 3,
      retried: 0.01,
      failing: 0.001,
      timeouts: 0.01,
      // Ops that never end hold every context op sent after them until their timeout and the
      // hang grace (their slave owes the acks): the test scenarios have them, this one measures
      // the scheduler.
      hangs: 0,
      poison: 3,
      cancels: 0.001,
      tagged: 0.01,
      // Single tags, each on many hosts: 1% of the ops on a rare pair (2% of hosts, maybe a
      // slow one) would make those hosts the tail, which no scheduling can shorten.
      tagChoices: [["gpu"], ["ssd"]],
      impossibleTags: 2,
      // A poison op runs three times, alone: placed in the first half, not in the tail.
      specialsWithin: 0.5,
    },
  };
}

/** A small, varied scenario for the test suite: 1 to 200 hosts, faults on or off, every op option. */
export function ciScenario(seed: number): Scenario {
  return withSmallHosts(variedScenario(seed));
}

function variedScenario(seed: number): Scenario {
  const r = new Random(seed, 1);
  const size = r.float();
  const hosts = size < 0.35 ? r.int(1, 4) : size < 0.75 ? r.int(5, 30) : size < 0.93 ? r.int(31, 100) : r.int(101, 200);
  const slots = hosts > 100 ? r.int(1, 4) : r.int(1, 8);
  const capacity = hosts * slots;
  const ops = Math.min(r.int(10, 600), 20 + capacity * r.int(2, 6));
  const faulty = r.chance(0.6);
  const tags = r.chance(0.3);
  const hostile = faulty && r.chance(0.1); // every host may die
  return {
    name: `ci seed ${seed}`,
    seed,
    hosts,
    slots,
    slowFraction: r.pick([0, 0, 0.05, 0.2]),
    slowFactor: r.pick([3, 5, 8]),
    speed: [r.uniform(0.5, 1), r.uniform(1, 2)],
    linkMs: [0.05, r.pick([0.5, 2, 10])],
    connectMs: [r.uniform(5, 100), r.uniform(100, 800)],
    startMs: [r.uniform(5, 50), r.uniform(50, 300)],
    contextMs: r.pick([0.05, 0.5, 3]),
    tagFractions: tags ? { gpu: r.pick([0.1, 0.3, 0.6]), ssd: r.pick([0, 0.3, 0.6]) } : { gpu: 0, ssd: 0 },
    faults: faulty
      ? {
          slaveCrashes: r.pick([0.02, 0.1, 0.4]),
          agentLosses: r.pick([0, 0.05, 0.2, 0.5]),
          stalls: r.pick([0, 0.1, 0.3]),
          neverUp: hostile ? 0.5 : r.pick([0, 0, 0.05]),
          diesForever: hostile ? 0.5 : r.pick([0, 0.02, 0.1]),
          downMs: [50, r.pick([500, 2500])],
          stallMs: [10, r.pick([200, 3000])],
        }
      : null,
    program: {
      ops,
      meanOpMs: r.pick([0.2, 2, 20, 100]),
      sizeSigma: r.pick([0, 0.5, 1.2]),
      window: r.pick<number | "auto">(["auto", Infinity, Infinity, 1, 8, 200]),
      contextOps: r.pick([0, 0, 1, 3, 10]),
      awaitContext: r.pick([0, 0.3, 1]),
      throwingContext: r.pick([0, 0, 0.3]),
      waits: r.pick([0, 0, 1, 3]),
      sharedSets: r.pick([0, 1, 4, 10]),
      sharedKeys: r.int(1, 3),
      retried: r.pick([0, 0.05, 0.2]),
      failing: r.pick([0, 0.02]),
      timeouts: r.pick([0, 0, 0.05, 0.3]),
      hangs: r.pick([0, 0, 1, 3]),
      poison: r.pick([0, 0, 0, 1, 2]),
      cancels: r.pick([0, 0, 0.02, 0.1]),
      tagged: tags ? r.pick([0.05, 0.3]) : 0,
      tagChoices: [["gpu"], ["ssd"], ["gpu", "ssd"]],
      impossibleTags: tags ? r.int(0, 2) : 0,
      specialsWithin: 1,
    },
    options: r.chance(0.3) ? { hangGraceMs: r.pick([50, 500, 2000]), maxDepth: r.pick([2, 4, 256]) } : undefined,
  };
}

/**
 * Small hosts and ops too large for them, drawn from a stream of their own so that every other
 * choice of a seed is what it was before they existed (the regression seeds still replay their bug).
 */
function withSmallHosts(scenario: Scenario): Scenario {
  const r = new Random(scenario.seed, 9);
  if (!r.chance(0.3)) return scenario;
  const large = () => r.pick([0.05, 0.3]);
  return { ...scenario, smallHosts: r.pick([0.2, 0.5, 1]), program: { ...scenario.program, largeInputs: large(), largeShared: large() } };
}
