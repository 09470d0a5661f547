// End-to-end: `mnt exec` exit codes and what it says on stderr when something is wrong, plus the
// channel's robustness (console output from ops, big results, big shared data, bad inputs).
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { describeRun, escapeRegExp, expectOneLineMntError, fixture, fixturesDir, lineOf, nonEmptyLines } from "./support.ts";

describe("mnt exec: exit codes and error messages", function () {
  this.timeout(60_000);

  describe("the program is invalid (65)", () => {
    it("program file missing: names the path and says to check it", async () => {
      const run = await runMnt(["exec", "test/fixtures/does-not-exist.ts", "--slots", "1"]);
      const line = expectOneLineMntError(run, 65);
      expect(line).to.include("test/fixtures/does-not-exist.ts");
      expect(line).to.match(/no such file/);
      expect(line).to.match(/check the path/);
    });

    describe("a program that does not compile", () => {
      let dir: string;
      before(() => {
        // Kept as .txt in fixtures so that tsc (which checks all of test/) does not see it.
        dir = mkdtempSync(path.join(os.tmpdir(), "mnt-broken-"));
        copyFileSync(path.join(fixturesDir, "broken.ts.txt"), path.join(dir, "broken.ts"));
      });
      after(() => rmSync(dir, { recursive: true, force: true }));

      it("names file:line:col of the error and says to fix it (relative path)", async () => {
        const run = await runMnt(["exec", "broken.ts", "--slots", "1"], { cwd: dir });
        const line = expectOneLineMntError(run, 65);
        expect(line).to.match(/^mnt: broken\.ts:10:\d+: /);
        expect(line).to.match(/fix the program/);
      });

      it("names file:line:col of the error (absolute path given)", async () => {
        const run = await runMnt(["exec", path.join(dir, "broken.ts"), "--slots", "1"]);
        const line = expectOneLineMntError(run, 65);
        expect(line).to.match(/broken\.ts:10:\d+: /);
      });
    });

    it("a module without a default defineProgram export: says so and shows the fix", async () => {
      const run = await runMnt(["exec", fixture("no-default.ts"), "--slots", "1"]);
      const line = expectOneLineMntError(run, 65);
      expect(line).to.match(/no default export made by defineProgram/);
      expect(line).to.include("export default defineProgram(");
    });

    it("init throws on the slaves: 65, naming the slave and the line of init", async () => {
      const run = await runMnt(["exec", fixture("init-throws.ts"), "--slots", "2", "-q"]);
      expect(run.code, describeRun(run)).to.equal(65);
      expect(run.stderr).to.match(/^mnt: the program failed to load on local:\d: Error: init-throws fixture: no context for you$/m);
      expect(run.stderr).to.match(new RegExp(`init-throws\\.ts:${lineOf("init-throws.ts", "INIT_THROW_LINE")}:\\d+`));
    });
  });

  describe("the program fails (70) or chooses its code", () => {
    it("main throws: 70, the message and a stack line at the fixture's .ts line (source maps)", async () => {
      const run = await runMnt(["exec", fixture("main-throws.ts"), "--slots", "2"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stderr).to.match(/^mnt: the program threw: Error: main-throws fixture: deliberate failure$/m);
      const at = `${escapeRegExp(path.join(fixturesDir, "main-throws.ts"))}:${lineOf("main-throws.ts", "MAIN_THROW_LINE")}:\\d+`;
      expect(run.stderr, describeRun(run)).to.match(new RegExp(`^\\s+at .*${at}`, "m"));
      // Not the bundle's line numbers.
      expect(run.stderr).not.to.match(/program-[0-9a-f]+\.mjs/);
    });

    it("an op throws and main does not catch it: 70, the stack points to the op's line", async () => {
      const run = await runMnt(["exec", fixture("op-throws.ts"), "--slots", "2"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stderr).to.match(/^mnt: the program threw: RangeError: op-throws fixture: explode\(7\) failed$/m);
      const at = `${escapeRegExp(path.join(fixturesDir, "op-throws.ts"))}:${lineOf("op-throws.ts", "OP_THROW_LINE")}:\\d+`;
      expect(run.stderr, describeRun(run)).to.match(new RegExp(`^\\s+at .*${at}`, "m"));
      expect(run.stderr).not.to.match(/program-[0-9a-f]+\.mjs/);
    });

    it("main returns 3: mnt exits 3", async () => {
      const run = await runMnt(["exec", fixture("returns-3.ts"), "--slots", "2"]);
      expect(run.code, describeRun(run)).to.equal(3);
      expect(run.stdout).to.equal("double(21) = 42\n");
      expect(run.stderr).not.to.match(/^mnt: /m);
    });

    it("-q: no [mnt] narration, the exit code is unchanged", async () => {
      const run = await runMnt(["exec", fixture("returns-3.ts"), "--slots", "1", "-q"]);
      expect(run.code, describeRun(run)).to.equal(3);
      expect(run.stdout).to.equal("double(21) = 42\n");
      expect(run.stderr).to.equal("");
    });
  });

  describe("the command line is wrong (64)", () => {
    it("an unknown flag: names it and points to --help", async () => {
      const run = await runMnt(["exec", fixture("returns-3.ts"), "--bogus-flag"]);
      const line = expectOneLineMntError(run, 64);
      expect(line).to.match(/bogus-flag|bogusFlag/);
      expect(line).to.include("mnt --help");
    });

    it("no command at all: says to name one", async () => {
      const run = await runMnt([]);
      const line = expectOneLineMntError(run, 64);
      expect(line).to.include("mnt exec program.ts");
    });

    it("exec without a program: points to --help", async () => {
      const run = await runMnt(["exec"]);
      const line = expectOneLineMntError(run, 64);
      expect(line).to.include("mnt --help");
    });

    it("an unknown command: names it", async () => {
      const run = await runMnt(["frobnicate"]);
      const line = expectOneLineMntError(run, 64);
      expect(line).to.include("frobnicate");
    });

    for (const bad of ["0", "-2", "1.5"]) {
      it(`--slots ${bad}: names the flag and says what it expects`, async () => {
        const run = await runMnt(["exec", fixture("returns-3.ts"), `--slots=${bad}`]);
        const line = expectOneLineMntError(run, 64);
        expect(line).to.include(`--slots ${bad}`);
        expect(line).to.match(/at least 1/);
      });
    }
  });

  describe("the channel carries everything intact", () => {
    it("ops console.log a lot (2,000 lines, binary-looking bytes): tagged [local:<slot>] on stderr, results still correct", async () => {
      const run = await runMnt(["exec", fixture("console-op.ts"), "--slots", "2"]);
      expect(run.code, describeRun(run)).to.equal(0);
      // Only main's own line reaches stdout: slave output is forwarded to stderr.
      expect(run.stdout).to.equal("console-op: 50 results, 0 wrong\n");
      const lines = run.stderr.split("\n");
      for (let id = 0; id < 50; id++) {
        expect(lines.some((line) => new RegExp(`^\\[local:[01]\\] chatty ${id} on slot [01]$`).test(line)), `chatty ${id} is tagged`).to.equal(true);
      }
      // Each line carries the slot that printed it.
      for (const line of lines) {
        const m = /^\[local:(\d)\] chatty \d+ on slot (\d)$/.exec(line);
        if (m) expect(m[1]).to.equal(m[2]);
      }
      // The 2,000 lines of op 0 arrive complete and in order, tagged with one slot.
      const bulk = lines.filter((line) => / bulk line \d+ of 2000$/.test(line));
      expect(bulk).to.have.length(2000);
      const slot = /^\[local:(\d)\]/.exec(bulk[0]!)![1];
      bulk.forEach((line, i) => expect(line).to.equal(`[local:${slot}] bulk line ${i} of 2000`));
      expect(lines).to.include(`[local:${slot}] stderr line from chatty 0`);
      expect(lines.some((line) => line.startsWith(`[local:${slot}] binary:\u0000\u0001\u0002`) && line.endsWith(" MNT\u0000\u0000\u0000\u0010 end"))).to.equal(true);
      expect(run.stderr).to.match(/\[mnt\] done in .*: 50 worker ops/);
    });

    it("lines an op printed before returning are not lost when main returns right away", async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const run = await runMnt(["exec", fixture("console-tail.ts"), "--slots", "2", "-q", "--", "2000", "0"]);
        expect(run.code, describeRun(run)).to.equal(0);
        const lines = run.stderr.split("\n");
        expect(lines.filter((line) => /^\[local:\d\] tail op \d line \d+$/.test(line)), `attempt ${attempt}`).to.have.length(8000);
        for (let id = 0; id < 4; id++) expect(lines.some((line) => new RegExp(`^\\[local:\\d\\] tail op ${id} last line$`).test(line))).to.equal(true);
      }
    });

    it("the same lines all arrive when main waits a little before returning", async () => {
      const run = await runMnt(["exec", fixture("console-tail.ts"), "--slots", "2", "-q", "--", "2000", "500"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const lines = run.stderr.split("\n");
      expect(lines.filter((line) => /^\[local:\d\] tail op \d line \d+$/.test(line))).to.have.length(8000);
      // Each op's lines come in order and from one slot.
      for (let id = 0; id < 4; id++) {
        const own = lines.filter((line) => line.includes(` tail op ${id} `));
        const slot = /^\[local:(\d)\]/.exec(own[0] ?? "")?.[1];
        own.forEach((line, i) => expect(line).to.equal(i < 2000 ? `[local:${slot}] tail op ${id} line ${i}` : `[local:${slot}] tail op ${id} last line`));
      }
    });

    it("an input that cannot be encoded rejects that op with a message naming the path; the run goes on", async () => {
      const run = await runMnt(["exec", fixture("unencodable.ts"), "--slots", "2"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(nonEmptyLines(run.stdout)).to.deep.equal([
        "unencodable: rejected: input of take cannot be encoded: .points[2].onClick is a function (onClick)",
        "unencodable: good input gave 1",
      ]);
    });

    it("an unknown op name called through an any-cast: names the op and the defined ones", async () => {
      const run = await runMnt(["exec", fixture("unknown-op.ts"), "--slots", "1"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stderr).to.match(/^mnt: the program threw: .*m\.worker\.gamma: the program defines no worker op "gamma" \(it has: alpha, beta\)$/m);
      expect(run.stderr).to.match(new RegExp(`unknown-op\\.ts:${lineOf("unknown-op.ts", "untyped.gamma")}:\\d+`));
    });

    it("a result of 8 MiB (bigger than one 1 MiB frame) arrives intact", async () => {
      const run = await runMnt(["exec", fixture("big-result.ts"), "--slots", "2"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(nonEmptyLines(run.stdout)).to.deep.equal(["big-result: seed 11 length 8388608 intact", "big-result: seed 22 length 8388608 intact"]);
    });

    it("a 20 MiB shared value is read correctly by ops on every slave, sent to the host once", async () => {
      const run = await runMnt(["exec", fixture("big-shared.ts"), "--slots", "3", "--", "3"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const [reads, sent] = nonEmptyLines(run.stdout);
      expect(reads).to.match(/^big-shared: \d+ reads on slots 0,1,2, 0 wrong$/);
      const m = /^big-shared: size=(\d+) bytesSent=(\d+)$/.exec(sent ?? "");
      expect(m, run.stdout).to.not.equal(null);
      const [size, bytesSent] = [Number(m![1]), Number(m![2])];
      // One host: the agent fetches the value once and serves its three slaves from its cache.
      expect(bytesSent).to.be.at.least(size);
      expect(bytesSent).to.be.lessThan(2 * size);
    });
  });
});
