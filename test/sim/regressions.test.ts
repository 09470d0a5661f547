// Scheduler bugs the simulator found, each kept as the seeded scenario that showed it (ciScenario
// of that seed; replay one with `npm run sim -- --ci-seed S`). Each failed before its fix.
import { expect } from "chai";
import { ciScenario } from "./scenario.ts";
import { describeFailure, runScenario } from "./simulation.ts";

const found: Array<{ seeds: number[]; what: string }> = [
  {
    seeds: [532, 1648, 1856],
    what: "the last host set aside while untagged ops wait for a catch-up: takeUnservable took them for tagged ops and setAside threw a TypeError (op.tags is null) out of hostFailed",
  },
  {
    seeds: [38, 79, 96, 143, 327],
    what: "an op taken back from behind a cancelled one and sent to the same slave again was settled by the slave's answer to its cancelled copy (an AbortError main never asked for, or a retry used up)",
  },
  {
    seeds: [14, 18, 27, 40, 46, 50],
    what: "an op charged with a slave's death, re-run at an older context version on a catch-up slave, did not run alone there: the other stale ops of its version were sent behind it",
  },
  {
    seeds: [719, 752, 1047],
    what: "an op that timed out (or was cancelled) while queued behind another on its slave, then hung there, was never watched: its slave ran it forever, kept taking ops, and the run deadlocked",
  },
];

describe("simulator: regressions (scheduler bugs it found)", function () {
  this.timeout(60_000);
  for (const { seeds, what } of found) {
    it(`${what} (seeds ${seeds.join(", ")})`, () => {
      for (const seed of seeds) {
        const report = runScenario(ciScenario(seed), { timing: false });
        expect(report.violationCount, describeFailure(report)).to.equal(0);
      }
    });
  }
});
