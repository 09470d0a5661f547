// Hosts that fail for good while a job runs (a lab of real sshd hosts in network namespaces): a
// host whose agent keeps failing is set aside and the job finishes on the others; with no host
// left, the run waits a bounded time for one to come back, then fails naming each host and why.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { startMnt } from "../helpers/live-mnt.ts";
import { describeRun, fixture } from "../cli/support.ts";
import { requireLabTools, startNetnsLab, type Lab, type LabHost } from "../lab/lab.ts";

/** A host crash: every process in the host's namespace (its sshd, the agent, the slaves) is killed. */
function crash(host: LabHost): void {
  const pids = execFileSync("ip", ["netns", "pids", host.netns!], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

describe("remote hosts that fail for good (a lab of real sshd hosts)", function () {
  this.timeout(120_000);
  let lab: Lab;
  let dir: string;

  beforeEach(async () => {
    requireLabTools();
    lab = await startNetnsLab(2);
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-host-failures-"));
  });
  afterEach(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a crashed host is set aside after its agent failed 5 times in a row; the job finishes on the other with every result", async () => {
    const hostsFile = path.join(dir, "hosts.yaml");
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 2, connectTimeoutMs: 2000 } });
    const stop = path.join(dir, "stop");
    const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "until", stop]);
    try {
      await mnt.waitForStderr(/remote-job: batch \d+ hosts h1,h2/, 30_000);
      crash(lab.hosts[1]!);
      const aside = await mnt.waitForStderr(/^\[mnt\] h2: set aside for the rest of the run: its agent failed 5 times in a row \(last: .*cannot connect.*\)$/m, 90_000);
      await mnt.waitForStderr(/^remote-job: batch \d+ hosts h1$/m, 30_000, aside.end);
      writeFileSync(stop, "");
      const run = await mnt.exited;
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.match(/^remote-job: \d+ results correct; hosts: h1,h2\n$/);
      expect(run.stderr.match(/^\[mnt\] h2: reconnecting \(attempt \d\)/gm), "it was retried first").to.have.length.at.least(4);
    } finally {
      mnt.child.kill("SIGKILL");
    }
  });

  it("a host unreachable when the run starts is named up front, the run starts without it, and it joins when it comes up", async () => {
    const hostsFile = path.join(dir, "hosts.yaml");
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 2, connectTimeoutMs: 1500 } });
    const h2 = lab.hosts[1]!;
    await lab.cut(h2);
    const stop = path.join(dir, "stop");
    const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "until", stop]);
    try {
      await mnt.waitForStderr(new RegExp(`^mnt: h2 \\(root@${h2.address.replace(/\./g, "\\.")}:22\\): cannot connect: .*$`, "m"), 30_000);
      await mnt.waitForStderr(/^\[mnt\] running on 1 of 2 hosts; h2 will join if it comes up$/m, 30_000);
      const alone = await mnt.waitForStderr(/^remote-job: batch \d+ hosts h1$/m, 30_000);
      await lab.restore(h2);
      const joined = await mnt.waitForStderr(/^\[mnt\] h2: agent up/m, 60_000, alone.end);
      await mnt.waitForStderr(/^remote-job: batch \d+ hosts h1,h2$/m, 30_000, joined.end);
      writeFileSync(stop, "");
      const run = await mnt.exited;
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.match(/^remote-job: \d+ results correct; hosts: h1,h2\n$/);
      expect(run.stderr, "a host never reached is not called lost").to.not.match(/^\[mnt\] h2: agent lost/m);
    } finally {
      mnt.child.kill("SIGKILL");
      await lab.restore(h2).catch(() => {});
    }
  });

  it("with no host left, the run waits --wait-for-hosts for one to come back, then fails naming each host (exit 69)", async () => {
    const hostsFile = path.join(dir, "hosts.yaml");
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 1, connectTimeoutMs: 2000 } });
    const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--wait-for-hosts", "3000", "--", "until", path.join(dir, "never")]);
    try {
      await mnt.waitForStderr(/remote-job: batch \d+ hosts h1,h2/, 30_000);
      crash(lab.hosts[0]!);
      crash(lab.hosts[1]!);
      const run = await mnt.exited;
      expect(run.code, describeRun(run)).to.equal(69);
      expect(run.stderr).to.match(/^mnt: no host came back within 3000 ms: h1: reconnecting \(.+\); h2: reconnecting \(.+\) \(fix the hosts, then run again\)$/m);
    } finally {
      mnt.child.kill("SIGKILL");
    }
  });
});
