// Hosts reached by a launch command instead of SSH (hosts.yaml `launch:`), against real hosts: the
// lab's network-namespace hosts (test/lab/lab.ts), entered with `nsenter` into their sshd's
// network, mount and UTS namespaces. Such a host has its own hostname, /root and /tmp, so the
// release must really be deployed there through the command; sshd itself is not used.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { startMnt } from "../helpers/live-mnt.ts";
import { waitFor } from "../helpers/wait.ts";
import { pidsOn } from "../helpers/netns-pids.ts";
import { timesProgram } from "../helpers/times-program.ts";
import { describeRun, fixture } from "../cli/support.ts";
import { requireLabTools, startNetnsLab, type Lab, type LabHost } from "../lab/lab.ts";

/** The command that enters the host as its sshd sees it (network, mount, UTS namespaces). */
function launchFor(host: LabHost): string[] {
  // The listener is the sshd the lab started with -D (sshd rewrites its command line into one string).
  const sshd = pidsOn(host, "sshd").find((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").includes(" -D "));
  if (sshd === undefined) throw new Error(`${host.name}: its sshd is not running`);
  return ["nsenter", "-t", String(sshd), "-n", "-m", "-u", "--"];
}


interface DeployJson {
  hosts: Array<{ host: string; status: string; via: string | null; filesChanged: number; bytesSent: number; releaseId: string }>;
}

describe("hosts reached by a launch command (nsenter into 2 lab hosts)", function () {
  this.timeout(120_000);
  let lab: Lab;
  let dir: string;
  let hostsFile: string;

  const writeHosts = (file: string, hosts: Array<{ name: string; launch: string[]; slots?: number }>) =>
    writeFileSync(file, `hosts:\n${hosts.map((h) => `  - name: ${h.name}\n    slots: ${h.slots ?? 2}\n    launch: ${JSON.stringify(h.launch)}\n`).join("")}`);

  before(async () => {
    requireLabTools();
    lab = await startNetnsLab(2);
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-launch-test-"));
    hostsFile = path.join(dir, "hosts.yaml");
    writeHosts(hostsFile, lab.hosts.map((host) => ({ name: `box-${host.name}`, launch: launchFor(host) })));
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("deploys through the command, runs the job on both hosts with exact results, and the next run sends nothing", async () => {
    const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--require-all", "--", "squares", "400", "4"]);
    expect(run.code, describeRun(run)).to.equal(0);
    // The ops ran in the hosts' own UTS namespaces: their hostnames, not this machine's.
    expect(run.stdout).to.equal("remote-job: 400 results correct; hosts: h1,h2\n");
    for (const name of ["box-h1", "box-h2"]) {
      expect(run.stderr).to.match(new RegExp(`^\\[mnt\\] ${name}: deployed linux-x64 release \\w+ \\(\\d+ files, \\d+ bytes\\)$`, "m"));
      expect(run.stderr).to.match(new RegExp(`^\\[mnt\\] ${name}: agent up \\(linux-x64, Node\\.js \\d+\\.\\d+\\.\\d+\\), 2 slaves$`, "m"));
    }
    // The release is in each host's own /root, which this machine does not see.
    for (const host of lab.hosts) {
      const listed = await lab.inNamespace(host, ["sh", "-c", "ls ~/.cache/mnt/releases && readlink ~/.cache/mnt/current"]);
      expect(listed.code, listed.stderr).to.equal(0);
      expect(listed.stdout).to.match(/^releases\/\w+$/m);
    }
    const again = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "squares", "40", "4"]);
    expect(again.code, describeRun(again)).to.equal(0);
    expect(again.stderr).to.not.match(/deployed/);
  });

  it("mnt deploy through the command: an update goes by rsync with hard links; a host without rsync gets a tar stream", async () => {
    const deployLab = await startNetnsLab(2, { hosts: { h2: { rsync: false } } });
    try {
      const file = path.join(dir, "deploy.yaml");
      writeHosts(file, deployLab.hosts.map((host) => ({ name: host.name, launch: launchFor(host) })));
      const out = path.join(dir, "build-deploy");
      const deployed = async (n: number) => {
        const run = await runMnt(["deploy", file, timesProgram(dir, n), "--out", out, "--json"]);
        expect(run.code, describeRun(run)).to.equal(0);
        return (JSON.parse(run.stdout) as DeployJson).hosts;
      };
      const first = await deployed(2);
      for (const host of first) expect(host).to.include({ status: "deployed", via: "tar" });
      const update = await deployed(5);
      expect(update[0]).to.include({ host: "h1", status: "deployed", via: "rsync", filesChanged: 2 });
      expect(update[0]!.bytesSent).to.be.lessThan(first[0]!.bytesSent / 4);
      expect(update[1]).to.include({ host: "h2", status: "deployed", via: "tar" });
      const inodes = await deployLab.inNamespace(deployLab.hosts[0]!, ["sh", "-c", `cd ~/.cache/mnt/releases && stat -c %i ${first[0]!.releaseId}/agent.cjs ${update[0]!.releaseId}/agent.cjs | sort -u | wc -l`]);
      expect(inodes.stdout.trim(), "the agent is one file linked into both releases").to.equal("1");
      const run = await runMnt(["exec", timesProgram(dir, 5), "--hosts", file, "--no-deploy", "-q"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("results 5,10,15\n");
    } finally {
      await deployLab.stop();
    }
  });

  it("a slave's output comes back as [host:slot] lines", async () => {
    const run = await runMnt(["exec", fixture("print-on-slaves.ts"), "--hosts", hostsFile]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.match(/^print-on-slaves: h1,h2$/m);
    const output = run.stdout + run.stderr;
    expect(output).to.match(/^\[box-h1:\d\] hello from h1$/m);
    expect(output).to.match(/^\[box-h2:\d\] hello from h2$/m);
  });

  it("an agent killed on its host is started again through the command; no result is lost", async () => {
    const stop = path.join(dir, "stop-reconnect");
    rmSync(stop, { force: true });
    const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "until", stop]);
    try {
      await mnt.waitForStderr(/remote-job: batch \d+ hosts h1,h2/, 30_000);
      const agents = pidsOn(lab.hosts[0]!, "agent.cjs");
      expect(agents, "agent and slaves on h1").to.not.have.length(0);
      agents.forEach((pid) => process.kill(pid, "SIGKILL"));
      const lost = await mnt.waitForStderr(/^\[mnt\] box-h1: agent lost/m, 30_000);
      const back = await mnt.waitForStderr(/^\[mnt\] box-h1: agent up/m, 30_000, lost.end);
      await mnt.waitForStderr(/^remote-job: batch \d+ hosts h1,h2$/m, 30_000, back.end);
      writeFileSync(stop, "");
      const run = await mnt.exited;
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.match(/^remote-job: \d+ results correct; hosts: h1,h2\n$/);
    } finally {
      mnt.child.kill("SIGKILL");
    }
  });

  it("killing the master (SIGKILL) leaves no agent or slave on any host", async () => {
    const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "until", path.join(dir, "stop-never")]);
    await mnt.waitForStderr(/remote-job: batch \d+ hosts h1,h2/, 30_000);
    lab.hosts.forEach((host) => expect(pidsOn(host, "agent.cjs"), `processes of the run on ${host.name}`).to.have.length(3));
    mnt.child.kill("SIGKILL");
    await mnt.exited;
    await waitFor(() => lab.hosts.every((host) => pidsOn(host, "agent.cjs").length === 0), 20_000, "every agent and slave on every host to exit");
  });

  it("a launch command that does not exist, or that fails, is one line naming the host and the fix", async () => {
    const bad = path.join(dir, "bad.yaml");
    writeHosts(bad, [{ name: "ghost", launch: ["no-such-launcher", "-i"] }]);
    const missing = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", bad, "--", "squares", "4"]);
    expect(missing.code, describeRun(missing)).to.equal(69);
    expect(missing.stderr).to.equal("mnt: ghost: cannot run its launch command: `no-such-launcher` was not found (install it, or fix launch: in the hosts file)\n");
    writeHosts(bad, [{ name: "gone", launch: ["nsenter", "-t", "999999999", "-n", "--"] }]);
    const failing = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", bad, "--", "squares", "4"]);
    expect(failing.code, describeRun(failing)).to.equal(69);
    expect(failing.stderr.split("\n").filter(Boolean)[0]).to.match(/^mnt: gone: .*nsenter.*999999999/);
    expect(failing.stderr).to.not.match(/\n\s+at /);
  });
});
