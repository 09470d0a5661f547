// End-to-end: slaves that start slowly are not hung (issue 11). Real processes held up before
// Node.js loads anything of mnt (a NODE_OPTIONS preload: before a slave's lifeline thread exists),
// run with default flags, finish with exact results and no host set aside; a host that shows it
// starts slowly gets its limit raised; a slave that never starts sets its host aside at the
// limit, in one line naming the limit and the flag that raises it.
import path from "node:path";
import { expect } from "chai";
import { repoRoot, runMnt } from "../helpers/mnt.ts";
import { describeRun, fixture, nonEmptyLines } from "./support.ts";

const preload = `--require ${path.join(repoRoot, "test", "fixtures", "slow-start.cjs")}`;

describe("mnt exec: slow starts are not hangs (--start-timeout)", function () {
  // Slaves are held up for seconds on purpose, on a machine others share.
  this.timeout(180_000);

  it("slaves that take 7 s to start, past the 5 s heartbeat limit and before their lifeline exists: default flags, every op right, no slave lost", async () => {
    const run = await runMnt(["exec", fixture("start-time.ts"), "--slots", "2"], {
      env: { NODE_OPTIONS: preload, SLOW_START_MS: "7000" },
      timeoutMs: 150_000,
    });
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout, describeRun(run)).to.equal("start-time: sum 2470\n");
    expect(run.stderr, describeRun(run)).not.to.match(/slave lost|set aside|heartbeat/);
  });

  it("a host whose agent took 2.5 s to start: its slaves' limit is raised past a small --start-timeout, and they all join", async () => {
    // Unraised, 4000 ms would kill every slave (each is held up 6 s): the raise (about 2.6×, as its
    // agent's start-up against an ordinary 1 s) is what lets them in. The agent's hello is judged by
    // the 4000 ms itself: there is nothing to raise it by before the host's first hello.
    const run = await runMnt(["exec", fixture("start-time.ts"), "--slots", "2", "--start-timeout", "4000"], {
      env: { NODE_OPTIONS: preload, SLOW_START_MS: "6000", SLOW_START_AGENT_MS: "2500" },
      timeoutMs: 150_000,
    });
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout, describeRun(run)).to.equal("start-time: sum 2470\n");
    expect(run.stderr, describeRun(run)).not.to.match(/slave lost|set aside/);

    // The same slaves where the agent starts at ordinary speed: nothing raises the 4000 ms.
    const ordinary = await runMnt(["exec", fixture("start-time.ts"), "--slots", "2", "--start-timeout", "4000"], {
      env: { NODE_OPTIONS: preload, SLOW_START_MS: "6000" },
      timeoutMs: 150_000,
    });
    expect(ordinary.code, describeRun(ordinary)).to.equal(69);
    expect(ordinary.stderr, describeRun(ordinary)).to.match(/^\[mnt\] local: set aside for the rest of the run: its slaves did not start within the start-up limit of 4000 ms, 3 in a row /m);
  });

  it("a slave that never starts (its init never settles): with --start-timeout 1500 the host is set aside after 3, one line naming the limit and the flag", async () => {
    const run = await runMnt(["exec", fixture("start-time.ts"), "--slots", "1", "--start-timeout", "1500"], {
      env: { START_TIME_STUCK: "1" },
      timeoutMs: 120_000,
    });
    expect(run.code, describeRun(run)).to.equal(69);
    const lines = nonEmptyLines(run.stderr);
    const lost = lines.filter((line) => line.startsWith("[mnt] local:0: slave lost"));
    expect(lost, describeRun(run)).to.have.length(3);
    for (const line of lost) expect(line).to.match(/^\[mnt\] local:0: slave lost \(still starting after \d+ ms, past its start-up limit of 1500 ms; the agent killed it\); 0 ops re-queued$/);
    const aside = lines.filter((line) => line.includes("set aside for the rest of the run"));
    expect(aside, describeRun(run)).to.have.length(1);
    expect(aside[0]).to.match(
      /^\[mnt\] local: set aside for the rest of the run: its slaves did not start within the start-up limit of 1500 ms, 3 in a row \(last: still starting after \d+ ms, past its start-up limit of 1500 ms; the agent killed it\); raise the limit with --start-timeout$/,
    );
    expect(lines.filter((line) => line.startsWith("mnt: ")), describeRun(run)).to.have.length(1);
    expect(lines.find((line) => line.startsWith("mnt: "))).to.match(/^mnt: no host is left to run on: local: set aside \(its slaves did not start within the start-up limit of 1500 ms, .*raise the limit with --start-timeout\) \(fix the hosts, then run again\)$/);
  });

  it("an agent with no hello within --start-timeout (it takes 3 s to start, the limit is 1000 ms): each attempt says so and how to raise it, then the host is set aside", async () => {
    const run = await runMnt(["exec", fixture("start-time.ts"), "--slots", "1", "--start-timeout", "1000"], {
      env: { NODE_OPTIONS: preload, SLOW_START_AGENT_MS: "3000" },
      timeoutMs: 120_000,
    });
    expect(run.code, describeRun(run)).to.equal(69);
    const noHello = "local: the agent sent no hello within 1000 ms (check that `node` runs on that host, or raise the start-up limit with --start-timeout)";
    const lines = nonEmptyLines(run.stderr);
    expect(lines.filter((line) => line === `[mnt] local: not reached: ${noHello}`), describeRun(run)).to.have.length(5);
    expect(lines, describeRun(run)).to.include(`[mnt] local: set aside for the rest of the run: its agent failed 5 times in a row (last: ${noHello})`);
  });

  it("--start-timeout 0: a usage error naming the flag", async () => {
    const run = await runMnt(["exec", fixture("start-time.ts"), "--start-timeout", "0"]);
    expect(run.code, describeRun(run)).to.equal(64);
    expect(nonEmptyLines(run.stderr)).to.deep.equal(["mnt: --start-timeout 0: expected a whole number, at least 1"]);
  });

  it("mnt exec --help shows the flag and its default, the runtime's own", async () => {
    const { RUNTIME_DEFAULTS } = await import("../../core/runtime/runtime.ts");
    const run = await runMnt(["exec", "--help"]);
    expect(run.code, describeRun(run)).to.equal(0);
    const help = run.stdout.replace(/\s+/g, " ");
    expect(help).to.match(/--start-timeout a slave not ready this long after it was started .* \[default: (\d+)\] \[number\]/);
    expect(Number(/--start-timeout .*?\[default: (\d+)\]/.exec(help)![1])).to.equal(RUNTIME_DEFAULTS.startTimeoutMs);
  });
});
