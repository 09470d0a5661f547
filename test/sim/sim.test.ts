// The deterministic simulator in CI: 2,000 seeded scenarios (1 to 200 hosts; faults on and off;
// tags, small hosts and ops too large for them, context ops, retries, timeouts, cancels, hung and
// poison ops) must keep every invariant
// (invariants.ts), and the scheduler's work per op must not grow with the cluster. A failure names
// the seed and the command that replays it.
import { expect } from "chai";
import { bigScenario, ciScenario } from "./scenario.ts";
import { describeFailure, runScenario, type SimReport } from "./simulation.ts";

const SCENARIOS = 2000;
const BATCH = 100;

describe("simulator: seeded scenarios keep the invariants", function () {
  this.timeout(120_000);
  for (let first = 1; first <= SCENARIOS; first += BATCH) {
    const last = first + BATCH - 1;
    it(`seeds ${first}–${last}`, () => {
      const failures: string[] = [];
      for (let seed = first; seed <= last; seed++) {
        const report = runScenario(ciScenario(seed), { timing: false });
        if (report.violationCount > 0) failures.push(describeFailure(report));
      }
      expect(failures, `\n${failures.join("\n")}\n`).to.deep.equal([]);
    });
  }

  it("covers what it claims: sizes, faults, tags, context ops, retries, timeouts, cancels", () => {
    const scenarios = Array.from({ length: SCENARIOS }, (_, i) => ciScenario(i + 1));
    const count = (test: (s: (typeof scenarios)[number]) => boolean) => scenarios.filter(test).length;
    expect(count((s) => s.hosts === 1)).to.be.greaterThan(20);
    expect(count((s) => s.hosts > 100)).to.be.greaterThan(50);
    expect(Math.max(...scenarios.map((s) => s.hosts))).to.equal(200);
    expect(count((s) => s.faults !== null)).to.be.within(SCENARIOS * 0.4, SCENARIOS * 0.8);
    expect(count((s) => s.program.tagged > 0)).to.be.greaterThan(SCENARIOS * 0.2);
    expect(count((s) => (s.smallHosts ?? 0) > 0 && (s.program.largeInputs ?? 0) > 0 && (s.program.largeShared ?? 0) > 0)).to.be.greaterThan(SCENARIOS * 0.2);
    expect(count((s) => s.smallHosts === 1), "every host small: large ops must fail").to.be.greaterThan(100);
    expect(count((s) => s.program.contextOps > 0)).to.be.greaterThan(SCENARIOS * 0.4);
    for (const key of ["retried", "timeouts", "cancels", "hangs", "poison", "throwingContext", "awaitContext"] as const) {
      expect(count((s) => s.program[key] > 0), key).to.be.greaterThan(SCENARIOS * 0.2);
    }
  });
});

describe("simulator: the scheduler's work per op is flat in the cluster size", function () {
  this.timeout(120_000);
  // Work: calls across the scheduler's boundary (event methods, port calls, clock calls, settles)
  // plus the steps of its loops over hosts, slaves and pool lists (work-count.ts). Counted, not
  // timed. The same program per slot at 10 and at 1,000 hosts (2 slots each, 30 ops per slot).
  const perOp = (hosts: number, faults: boolean): SimReport => {
    const scenario = bigScenario({ hosts, slots: 2, ops: hosts * 2 * 30, seed: 7, faults, slowFraction: 0.05 });
    const report = runScenario(scenario, { timing: false, countLoops: true, replay: `hosts ${hosts}, faults ${faults}` });
    expect(report.violationCount, describeFailure(report)).to.equal(0);
    return report;
  };

  for (const faults of [false, true]) {
    it(`faults ${faults ? "on" : "off"}: 1,000 hosts cost at most 1.5× the work per op of 10 hosts`, () => {
      const small = perOp(10, faults);
      const large = perOp(1000, faults);
      const detail = (r: SimReport) => `${r.workPerOp.toFixed(2)}/op (loop steps ${(r.work.iterations / r.ops).toFixed(2)}/op)`;
      expect(large.workPerOp, `10 hosts: ${detail(small)}; 1,000 hosts: ${detail(large)}`).to.be.at.most(small.workPerOp * 1.5);
    });
  }
});
