// End-to-end: `mnt exec --json` prints one JSON summary on stdout, and nothing else goes there.
import { expect } from "chai";
import { runMnt, type MntRun } from "../helpers/mnt.ts";
import { describeRun, fixture } from "./support.ts";

interface Summary {
  ok: boolean;
  exitCode: number;
  wallMs: number;
  slaves: number;
  ops: { worker: number; context: number; retried: number; failed: number };
  shared: { versions: number; bytesSent: number };
  [key: string]: unknown;
}

/** stdout must be exactly one JSON object on one line. */
function parseSummary(run: MntRun): Summary {
  expect(run.stdout.endsWith("\n"), describeRun(run)).to.equal(true);
  const lines = run.stdout.slice(0, -1).split("\n");
  expect(lines, describeRun(run)).to.have.length(1);
  const summary = JSON.parse(lines[0]!) as Summary;
  expect(summary).to.be.an("object");
  expect(summary).to.include.keys("ok", "exitCode", "wallMs", "slaves", "ops", "shared");
  expect(summary.ops).to.have.all.keys("worker", "context", "retried", "failed");
  expect(summary.shared).to.have.all.keys("versions", "bytesSent");
  return summary;
}

async function timed(args: string[]): Promise<{ run: MntRun; elapsedMs: number }> {
  const started = performance.now();
  const run = await runMnt(args);
  return { run, elapsedMs: performance.now() - started };
}

describe("mnt exec --json", function () {
  this.timeout(60_000);

  it("a successful run: one JSON object with the counts of what the program did", async () => {
    const { run, elapsedMs } = await timed(["exec", fixture("stats.ts"), "--slots", "2", "--json"]);
    expect(run.code, describeRun(run)).to.equal(0);
    const summary = parseSummary(run);
    expect(summary.ok).to.equal(true);
    expect(summary.exitCode).to.equal(0);
    expect(summary.slaves).to.equal(2);
    expect(summary.ops).to.deep.equal({ worker: 40, context: 3, retried: 0, failed: 0 });
    expect(summary.shared.versions).to.equal(2);
    // Both versions were read by ops; one host fetches each once (msgpack [1,2,3] + [1,2,3,4,5] = 10 bytes).
    expect(summary.shared.bytesSent).to.be.greaterThan(0);
    expect(summary.shared.bytesSent).to.be.at.most(2 * 10);
    expect(summary.wallMs).to.be.a("number").and.to.be.greaterThan(0);
    expect(summary.wallMs).to.be.lessThan(elapsedMs);
    // Narration is off; slave output is still forwarded, on stderr.
    expect(run.stderr).not.to.match(/^\[mnt\]/m);
    expect(run.stderr).to.match(/^\[local:\d\] stats: add\(0\) on slot \d$/m);
    expect(run.stderr).to.include("stats: sum=20740 expected=20740");
  });

  it("--slots 3: slaves is 3 and the counts do not depend on the slave count", async () => {
    const { run } = await timed(["exec", fixture("stats.ts"), "--slots", "3", "--json"]);
    expect(run.code, describeRun(run)).to.equal(0);
    const summary = parseSummary(run);
    expect(summary.slaves).to.equal(3);
    expect(summary.ops).to.deep.equal({ worker: 40, context: 3, retried: 0, failed: 0 });
    expect(summary.shared.versions).to.equal(2);
  });

  it("a failing program (an op throws, main does not catch): ok false, exitCode 70, the failed op counted", async () => {
    const { run } = await timed(["exec", fixture("fails.ts"), "--slots", "2", "--json"]);
    expect(run.code, describeRun(run)).to.equal(70);
    const summary = parseSummary(run);
    expect(summary.ok).to.equal(false);
    expect(summary.exitCode).to.equal(70);
    expect(summary.ops.failed).to.equal(1);
    expect(summary.ops.worker).to.equal(6); // 0…4 succeeded, 5 failed, nothing issued after
    // The error itself goes to stderr.
    expect(run.stderr).to.match(/^mnt: the program threw: Error: fails fixture: 5 is not allowed$/m);
  });

  it("main returns 3: ok false, exitCode 3 (and mnt exits 3)", async () => {
    const { run } = await timed(["exec", fixture("returns-3.ts"), "--slots", "1", "--json"]);
    expect(run.code, describeRun(run)).to.equal(3);
    // returns-3 prints from main: with --json that goes to stderr, so stdout is the summary alone.
    expect(run.stderr).to.match(/^double\(21\) = 42$/m);
    const summary = parseSummary(run);
    expect(summary.ok).to.equal(false);
    expect(summary.exitCode).to.equal(3);
    expect(summary.ops.worker).to.equal(1);
  });

  it("slaves cannot load the program (init throws): ok false, exitCode 65", async () => {
    const { run } = await timed(["exec", fixture("init-throws.ts"), "--slots", "2", "--json"]);
    expect(run.code, describeRun(run)).to.equal(65);
    const summary = parseSummary(run);
    expect(summary.ok).to.equal(false);
    expect(summary.exitCode).to.equal(65);
  });

  it("a program without a default export still gets a JSON summary (ok false, exitCode 65)", async () => {
    const { run } = await timed(["exec", fixture("no-default.ts"), "--slots", "1", "--json"]);
    expect(run.code, describeRun(run)).to.equal(65);
    const summary = parseSummary(run);
    expect(summary.ok).to.equal(false);
    expect(summary.exitCode).to.equal(65);
  });

  it("without --json, narration goes to stderr and stdout holds only the program's output", async () => {
    const { run } = await timed(["exec", fixture("stats.ts"), "--slots", "2"]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.equal("");
    expect(run.stderr).to.match(/^\[mnt\] local: agent up .*2 slaves$/m);
    expect(run.stderr).to.match(/^\[mnt\] done in [\d.]+ s: 40 worker ops, 3 context ops, 0 retried, 0 failed$/m);
  });
});
