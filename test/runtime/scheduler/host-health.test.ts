// Host health: when a failing agent or slave is retried and after how long, when a host is set
// aside (and the reason it gives), and when an op that keeps killing slaves is failed with a
// PoisonOpError that names the op, its input and each death.
import { expect } from "chai";
import { HostHealth } from "../../../core/runtime/scheduler/host-health.ts";
import { PoisonOpError } from "../../../core/runtime/recovery.ts";
import { makeHost, makeOp } from "./fakes.ts";

const defaults = { poisonKills: 3, maxSlaveFailures: 10, maxStartFailures: 3, maxAgentFailures: 5, startTimeoutMs: 60_000 };

describe("scheduler: host health", () => {
  describe("agent failures", () => {
    it("reconnect at once, then after 0.5 s, 1 s, 2 s…; set aside at the limit, naming the count and the last reason", () => {
      const health = new HostHealth(defaults);
      const host = makeHost("a");
      const verdicts = Array.from({ length: 5 }, (_, i) => health.agentFailed(host, `refused ${i + 1}`, false));
      expect(verdicts.slice(0, 4)).to.deep.equal([
        { kind: "retry", delayMs: 0 },
        { kind: "retry", delayMs: 500 },
        { kind: "retry", delayMs: 1000 },
        { kind: "retry", delayMs: 2000 },
      ]);
      expect(verdicts[4]).to.deep.equal({ kind: "aside", reason: "its agent failed 5 times in a row (last: refused 5)" });
    });

    it("the delay stops growing at 8 s", () => {
      const health = new HostHealth({ ...defaults, maxAgentFailures: 100 });
      const host = makeHost("a");
      const delays = Array.from({ length: 9 }, () => {
        const verdict = health.agentFailed(host, "down", false);
        return verdict.kind === "retry" ? verdict.delayMs : -1;
      });
      expect(delays).to.deep.equal([0, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    });

    it("a limit of one says 'once'", () => {
      const health = new HostHealth({ ...defaults, maxAgentFailures: 1 });
      expect(health.agentFailed(makeHost("a"), "connection reset", false)).to.deep.equal({ kind: "aside", reason: "its agent failed once (last: connection reset)" });
    });

    it("a hopeless failure (wrong build, refused key) sets the host aside at once with its own reason", () => {
      const health = new HostHealth(defaults);
      expect(health.agentFailed(makeHost("a"), "a: host key changed", true)).to.deep.equal({ kind: "aside", reason: "a: host key changed" });
    });

    it("an op finished on the host wipes its failures: the next reconnection is immediate again", () => {
      const health = new HostHealth(defaults);
      const host = makeHost("a");
      for (let i = 0; i < 4; i++) health.agentFailed(host, "down", false);
      health.progress(host);
      expect(host.agentFailures).to.equal(0);
      expect(health.agentFailed(host, "down", false)).to.deep.equal({ kind: "retry", delayMs: 0 });
      for (let i = 0; i < 3; i++) health.agentFailed(host, "down", false);
      expect(health.agentFailed(host, "down", false).kind, "five in a row since the last progress").to.equal("aside");
    });
  });

  describe("slave deaths", () => {
    it("restart at once, then after 100 ms, 200 ms… up to 5 s; set aside after maxSlaveFailures in a row", () => {
      const health = new HostHealth({ ...defaults, maxSlaveFailures: 10 });
      const host = makeHost("a");
      const verdicts = Array.from({ length: 10 }, (_, i) => health.slaveDied(host, `killed by SIGSEGV (${i + 1})`, false));
      expect(verdicts.slice(0, 9).map((v) => (v.kind === "retry" ? v.delayMs : -1))).to.deep.equal([0, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
      expect(verdicts[9]).to.deep.equal({ kind: "aside", reason: "10 slaves in a row died with no op finished in between (last: killed by SIGSEGV (10))" });
    });

    it("an op finished in between starts the count again", () => {
      const health = new HostHealth({ ...defaults, maxSlaveFailures: 3 });
      const host = makeHost("a");
      health.slaveDied(host, "x", false);
      health.slaveDied(host, "x", false);
      health.progress(host);
      expect(health.slaveDied(host, "x", false)).to.deep.equal({ kind: "retry", delayMs: 0 });
      expect(health.slaveDied(host, "x", false)).to.deep.equal({ kind: "retry", delayMs: 100 });
      expect(health.slaveDied(host, "x", false).kind).to.equal("aside");
    });

    it("slaves dying before they were ready: set aside after maxStartFailures in a row, whatever the other limit", () => {
      const health = new HostHealth(defaults);
      const host = makeHost("a");
      expect(health.slaveDied(host, "exited with code 1", true).kind).to.equal("retry");
      expect(health.slaveDied(host, "exited with code 1", true).kind).to.equal("retry");
      expect(health.slaveDied(host, "exited with code 1; last stderr: node: bad option", true)).to.deep.equal({
        kind: "aside",
        reason: "its slaves die while starting (last: exited with code 1; last stderr: node: bad option)",
      });
    });

    it("slaves still starting past their start-up limit: set aside naming the limit and how to raise it; before that, retried", () => {
      const health = new HostHealth({ ...defaults, settingNames: { startTimeoutMs: "--start-timeout" } });
      const host = makeHost("a");
      const late = "still starting after 60012 ms, past its start-up limit of 60000 ms; the agent killed it";
      expect(health.slaveDied(host, late, true, 60_000).kind).to.equal("retry");
      expect(health.slaveDied(host, late, true, 60_000).kind).to.equal("retry");
      expect(health.slaveDied(host, late, true, 60_000)).to.deep.equal({
        kind: "aside",
        reason: `its slaves did not start within the start-up limit of 60000 ms, 3 in a row (last: ${late}); raise the limit with --start-timeout`,
      });
    });

    it("a limit raised for a slow host is named with the user's own; without the CLI's names, the runtime option is named", () => {
      const health = new HostHealth({ ...defaults, maxStartFailures: 1 });
      const verdict = health.slaveDied(makeHost("a"), "still starting", true, 90_000);
      expect(verdict).to.deep.equal({
        kind: "aside",
        reason: "its slaves did not start within the start-up limit of 90000 ms (60000 ms, raised for this host's slow start-up), 1 in a row (last: still starting); raise the limit with the startTimeoutMs option",
      });
    });

    it("a slave that got ready in between resets the start count (but not the death count)", () => {
      const health = new HostHealth(defaults);
      const host = makeHost("a");
      health.slaveDied(host, "x", true);
      health.slaveDied(host, "x", true);
      health.slaveStarted(host);
      expect(health.slaveDied(host, "x", true).kind).to.equal("retry");
      expect(health.slaveDied(host, "x", true).kind).to.equal("retry");
      expect(host.slaveFailures).to.equal(4);
      expect(health.slaveDied(host, "x", true).kind).to.equal("aside");
    });
  });

  describe("poison ops", () => {
    it("an op is failed at its poisonKills-th death, with an error naming the op, its input and each death", () => {
      const health = new HostHealth(defaults);
      const op = makeOp(6);
      let described = 0;
      const input = () => {
        described++;
        return "{ i: 5, bad: 5 }";
      };
      expect(health.chargeDeath(op, { where: "local:1", how: "killed by SIGSEGV; last stderr: 5 is the bad one" }, "crashOn", input)).to.equal(null);
      expect(health.chargeDeath(op, { where: "local:0", how: "killed by SIGSEGV" }, "crashOn", input)).to.equal(null);
      expect(described, "the input is described only for the error").to.equal(0);
      const error = health.chargeDeath(op, { where: "b:3", how: "exited with code 134" }, "crashOn", input);
      expect(error).to.be.instanceOf(PoisonOpError);
      expect(error!.code).to.equal("poison");
      expect(error!.opId).to.equal(6);
      expect(error!.deaths.map((d) => d.where)).to.deep.equal(["local:1", "local:0", "b:3"]);
      expect(error!.message).to.equal(
        "crashOn (op 6, input { i: 5, bad: 5 }) killed 3 slaves and was not run again: local:1 killed by SIGSEGV; last stderr: 5 is the bad one; local:0 killed by SIGSEGV; b:3 exited with code 134 (fix the op for this input, or catch this error in main)",
      );
      expect(op.deaths).to.have.length(3);
    });

    it("poisonKills: 1 fails the op at its first death", () => {
      const health = new HostHealth({ ...defaults, poisonKills: 1 });
      const error = health.chargeDeath(makeOp(1), { where: "a:0", how: "killed by SIGBUS" }, "f", () => "1");
      expect(error?.message).to.match(/^f \(op 1, input 1\) killed 1 slaves and was not run again: a:0 killed by SIGBUS/);
    });
  });
});
