// End-to-end: what a user sees from `mnt exec` when the program's own ops crash, hang or get stuck,
// and the Recovery flags that tune it.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { describeRun, expectOneLineMntError, fixture, lineOf, nonEmptyLines } from "./support.ts";

describe("mnt exec: recovery from the program's own faults", function () {
  this.timeout(60_000);

  it("a poison op, uncaught: exit 70, one line naming the op, its input, SIGSEGV and the slave's last stderr line, then where main awaited it", async () => {
    const run = await runMnt(["exec", fixture("recovery.ts"), "--slots", "2", "-q", "--", "poison"]);
    expect(run.code, describeRun(run)).to.equal(70);
    const thrown = nonEmptyLines(run.stderr).filter((line) => line.startsWith("mnt: "));
    expect(thrown, describeRun(run)).to.have.length(1);
    expect(thrown[0]).to.match(
      /^mnt: the program threw: PoisonOpError: crashOn \(op 6, input \{ i: 5, bad: 5 \}\) killed 3 slaves and was not run again: (local:\d killed by SIGSEGV; last stderr: recovery fixture: 5 is the bad one(; )?){3} \(fix the op for this input, or catch this error in main\)$/,
    );
    // No stack of mnt's: only the program's line that awaited the op.
    const lines = run.stderr.split("\n");
    const at = lines.indexOf(thrown[0]!);
    expect(lines[at + 1], describeRun(run)).to.equal("    at async Promise.all (index 5)");
    expect(lines[at + 2], describeRun(run)).to.match(new RegExp(`^    at async Object\\.main \\((.*/)?test/fixtures/recovery\\.ts:${lineOf("recovery.ts", "POISON_AWAIT")}:\\d+\\)$`));
    expect(lines.filter((line) => /^\s+at /.test(line)), "no other frame").to.have.length(2);
  });

  it("--poison-kills 1: the first death fails the op", async () => {
    const run = await runMnt(["exec", fixture("recovery.ts"), "--slots", "2", "-q", "--poison-kills", "1", "--", "poison"]);
    expect(run.code, describeRun(run)).to.equal(70);
    expect(run.stderr).to.match(/PoisonOpError: crashOn \(op 6, input \{ i: 5, bad: 5 \}\) killed 1 slaves/);
  });

  it("--slave-timeout: an op that stops its own slave (SIGSTOP) is noticed, re-run on a fresh slave, and the run succeeds", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mnt-recovery-"));
    try {
      const run = await runMnt(["exec", fixture("recovery.ts"), "--slots", "1", "--slave-timeout", "1000", "--", "stop", path.join(dir, "marker")]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("recovery: stopOnce ran to the end\n");
      expect(run.stderr).to.match(/^\[mnt\] local:0: slave lost \(no heartbeat for \d+ ms \(stopped, frozen or hung\); the agent killed it\); 1 ops re-queued$/m);
      expect(run.stderr).to.match(/1 slaves lost and replaced, 1 op runs repeated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--op-timeout: a synchronous endless loop times out, its slave is replaced, the next op runs", async () => {
    const run = await runMnt(["exec", fixture("recovery.ts"), "--slots", "1", "--op-timeout", "500", "--", "stuck"]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(nonEmptyLines(run.stdout)).to.deep.equal(["recovery: stuck op gave TimeoutError: spin (op 1) got no result within 500 ms", "recovery: next op gave spun"]);
    expect(run.stderr).to.match(/slave lost \(killed by the master: spin \(op 1\) was still running 2000 ms after it was timed out\)/);
  });

  it("an op that throws and is never awaited ends the run like a throw from main: exit 70, the op's stack", async () => {
    const run = await runMnt(["exec", fixture("recovery.ts"), "--slots", "1", "-q", "--", "unawaited"]);
    expect(run.code, describeRun(run)).to.equal(70);
    expect(run.stdout, "main was cut short").to.equal("");
    expect(run.stderr).to.match(/^mnt: the program threw: Error: a promise was rejected and nothing handled it \(an op not awaited\?\): recovery fixture: boom$/m);
    expect(run.stderr).to.match(new RegExp(`^\\s+at .*recovery\\.ts:${lineOf("recovery.ts", "BOOM_LINE")}:\\d+`, "m"));
  });

  for (const flag of ["--op-timeout", "--slave-timeout", "--agent-timeout", "--wait-for-hosts", "--poison-kills"]) {
    it(`${flag} 0: a usage error naming the flag`, async () => {
      const run = await runMnt(["exec", fixture("recovery.ts"), flag, "0"]);
      const line = expectOneLineMntError(run, 64);
      expect(line).to.equal(`mnt: ${flag} 0: expected a whole number, at least 1`);
    });
  }
});
