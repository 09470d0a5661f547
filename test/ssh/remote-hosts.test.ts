// `mnt` against a lab of real OpenSSH hosts in network namespaces (test/lab/lab.ts): jobs across
// hosts, host-key verification, jump hosts, unreachable hosts and refused logins, a link cut
// mid-job and restored, a killed master, and no listening ports anywhere.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { startMnt } from "../helpers/live-mnt.ts";
import { waitFor } from "../helpers/wait.ts";
import { describeRun, fixture, nonEmptyLines } from "../cli/support.ts";
import { pidsOn } from "../helpers/netns-pids.ts";
import { requireLabTools, startNetnsLab, type Lab, type LabHost } from "../lab/lab.ts";

describe("remote hosts over SSH (a lab of 3 real sshd hosts in network namespaces)", function () {
  this.timeout(120_000);
  let lab: Lab;
  let dir: string;
  let hostsFile: string;
  const h = (i: number) => lab.hosts[i]!;

  before(async () => {
    requireLabTools();
    lab = await startNetnsLab(3);
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-ssh-test-"));
    hostsFile = path.join(dir, "hosts.yaml");
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 2, connectTimeoutMs: 3000 } });
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("jobs", () => {
    it("a job across 3 hosts prints the same result as on this machine", async () => {
      const local = await runMnt(["exec", "examples/pi/pi.ts", "--slots", "6", "-q"]);
      const remote = await runMnt(["exec", "examples/pi/pi.ts", "--hosts", hostsFile, "-q"]);
      expect(remote.code, describeRun(remote)).to.equal(0);
      expect(local.code, describeRun(local)).to.equal(0);
      expect(remote.stdout).to.equal(local.stdout);
      expect(remote.stdout).to.match(/^pi ≈ 3\.\d+ \(\d+ samples\)\n$/);
    });

    it("every result is correct and every host did work; each agent reports its own host", async () => {
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "squares", "600", "6"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("remote-job: 600 results correct; hosts: h1,h2,h3\n");
      for (const name of ["h1", "h2", "h3"]) expect(run.stderr).to.match(new RegExp(`^\\[mnt\\] ${name}: agent up \\(linux-x64, Node\\.js \\d+\\.\\d+\\.\\d+\\), 2 slaves$`, "m"));
    });

    it("mnt hosts check: a table with every host usable, exit 0; --json has the facts", async () => {
      const table = await runMnt(["hosts", "check", hostsFile]);
      expect(table.code, describeRun(table)).to.equal(0);
      const rows = nonEmptyLines(table.stdout);
      expect(rows[0]).to.match(/^host\s+status\s+host key\s+os\/arch\s+order\/word\s+node\s+cores\s+free disk\s+rsync\s+time$/);
      for (const name of ["h1", "h2", "h3"]) expect(table.stdout).to.match(new RegExp(`^${name}\\s+ok\\s+known\\s+Linux/x64\\s+LE 64-bit\\s+\\d+\\.\\d+\\.\\d+\\s+\\d+\\s+[\\d.]+ [GM]iB\\s+yes\\s+\\d+ ms$`, "m"));
      const json = await runMnt(["hosts", "check", hostsFile, "--json"]);
      expect(json.code, describeRun(json)).to.equal(0);
      const report = JSON.parse(json.stdout) as { ok: boolean; hosts: Array<{ name: string; usable: boolean; node: string; cores: number; fingerprint: string; rsync: boolean; byteOrder: string; wordBits: number }> };
      expect(report.ok).to.equal(true);
      expect(report.hosts.map((x) => x.name)).to.deep.equal(["h1", "h2", "h3"]);
      report.hosts.forEach((x, i) => {
        expect(x.usable).to.equal(true);
        expect(x.node).to.equal(process.versions.node);
        expect(x.fingerprint).to.equal(h(i).hostKeyFingerprint);
        expect(x.rsync).to.equal(true);
        expect([x.byteOrder, x.wordBits]).to.deep.equal(["LE", 64]);
      });
    });
  });

  describe("host keys", () => {
    it("a changed host key is refused, naming both fingerprints and the line to fix; exec --require-all exits 77", async () => {
      const otherKey = path.join(dir, "other_key");
      rmSync(otherKey, { force: true });
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
      const otherPub = readFileSync(`${otherKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
      const otherFingerprint = execFileSync("ssh-keygen", ["-lf", `${otherKey}.pub`], { encoding: "utf8" }).split(" ")[1]!;
      const knownHosts = path.join(dir, "known_hosts_changed");
      const lines = readFileSync(lab.knownHostsFile, "utf8").split("\n").filter((line) => line && !line.startsWith(`${h(1).address} `));
      writeFileSync(knownHosts, [...lines, `${h(1).address} ${otherPub}`].join("\n") + "\n");
      const file = path.join(dir, "hosts-changed.yaml");
      lab.writeHostsYaml(file, { defaults: { knownHostsFile: knownHosts, connectTimeoutMs: 3000 } });

      const check = await runMnt(["hosts", "check", file]);
      expect(check.code, describeRun(check)).to.equal(69);
      const refused = nonEmptyLines(check.stderr).filter((line) => line.startsWith("mnt: "));
      expect(refused, describeRun(check)).to.have.length(1);
      expect(refused[0]).to.include(`mnt: h2 (root@${h(1).address}:22): HOST KEY CHANGED: the host offers ssh-ed25519 ${h(1).hostKeyFingerprint}, ${knownHosts}:3 has ssh-ed25519 ${otherFingerprint}`);
      expect(refused[0]).to.include(`ssh-keygen -R '${h(1).address}' -f ${knownHosts}`);
      expect(check.stdout).to.match(/^h2\s+FAILED\s+refused/m);

      const exec = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--require-all", "--", "squares", "10"]);
      expect(exec.code, describeRun(exec)).to.equal(77);
      expect(exec.stderr).to.include("HOST KEY CHANGED");
      // Without --require-all the job runs on the two hosts that passed.
      const partial = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "squares", "100", "4"]);
      expect(partial.code, describeRun(partial)).to.equal(0);
      expect(partial.stdout).to.equal("remote-job: 100 results correct; hosts: h1,h3\n");
      expect(partial.stderr).to.match(/^\[mnt\] running on 2 of 3 hosts$/m);
    });

    it("an unknown host key is refused under strictHostKeyChecking yes, with its fingerprint (exit 77 for a one-host run)", async () => {
      const knownHosts = path.join(dir, "known_hosts_empty");
      writeFileSync(knownHosts, "");
      const file = path.join(dir, "hosts-unknown.yaml");
      lab.writeHostsYaml(file, { defaults: { knownHostsFile: knownHosts } });
      const yaml = readFileSync(file, "utf8");
      writeFileSync(file, yaml.replace(/\n {2}- name: h2[\s\S]*$/, "\n"));
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "squares", "10"]);
      expect(run.code, describeRun(run)).to.equal(77);
      const lines = nonEmptyLines(run.stderr);
      expect(lines, describeRun(run)).to.have.length(1);
      expect(lines[0]).to.include(`mnt: h1 (root@${h(0).address}:22): host key ssh-ed25519 ${h(0).hostKeyFingerprint} is not in ${knownHosts}; refused under strictHostKeyChecking yes`);
      expect(readFileSync(knownHosts, "utf8"), "nothing recorded").to.equal("");
    });

    it("accept-new records unknown keys (then they verify under yes)", async () => {
      const knownHosts = path.join(dir, "known_hosts_new");
      rmSync(knownHosts, { force: true });
      const file = path.join(dir, "hosts-accept-new.yaml");
      lab.writeHostsYaml(file, { defaults: { knownHostsFile: knownHosts, strictHostKeyChecking: "accept-new" } });
      const first = await runMnt(["hosts", "check", file]);
      expect(first.code, describeRun(first)).to.equal(0);
      for (const host of lab.hosts) expect(first.stderr).to.include(`[mnt] recorded a new host key: ${host.address} ssh-ed25519 ${host.hostKeyFingerprint} → ${knownHosts}`);
      const recorded = readFileSync(knownHosts, "utf8").trim().split("\n");
      expect(recorded.map((line) => line.split(" ")[0]).sort()).to.deep.equal(lab.hosts.map((x) => x.address).sort());
      for (const host of lab.hosts) expect(recorded).to.include(`${host.address} ${host.hostPublicKey.split(" ").slice(0, 2).join(" ")}`);
      const strict = path.join(dir, "hosts-accept-new-then-yes.yaml");
      lab.writeHostsYaml(strict, { defaults: { knownHostsFile: knownHosts, strictHostKeyChecking: "yes" } });
      const second = await runMnt(["hosts", "check", strict]);
      expect(second.code, describeRun(second)).to.equal(0);
      expect(second.stdout).to.match(/^h1\s+ok\s+known/m);
    });
  });

  describe("reaching hosts", () => {
    it("a jump host chain (h3 through h1, then h2) works, and h3 sees the connection come from h2", async () => {
      const file = path.join(dir, "hosts-jump.yaml");
      lab.writeHostsYaml(file, { defaults: { slots: 1 }, perHost: { h3: { jump: [`root@${h(0).address}`, `root@${h(1).address}`] } } });
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "squares", "60", "3"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("remote-job: 60 results correct; hosts: h1,h2,h3\n");
      const h3Log = readFileSync(path.join(lab.dir, "h3", "sshd.log"), "utf8");
      expect(h3Log).to.match(new RegExp(`Accepted publickey for root from ${h(1).address.replace(/\./g, "\\.")} `));
    });

    it("an unreachable host: one line naming it and the fix, exit 69", async () => {
      const unused = h(0).address.replace(/\.\d+$/, ".99");
      const file = path.join(dir, "hosts-unreachable.yaml");
      writeFileSync(file, `defaults:\n  user: root\n  identityFiles: [${lab.clientKey}]\n  knownHostsFile: ${lab.knownHostsFile}\n  connectTimeoutMs: 1000\nhosts:\n  - address: ${unused}\n    name: nowhere\n`);
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "squares", "10"]);
      expect(run.code, describeRun(run)).to.equal(69);
      const lines = nonEmptyLines(run.stderr);
      expect(lines, describeRun(run)).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`^mnt: nowhere \\(root@${unused.replace(/\./g, "\\.")}:22\\): cannot connect: .+ \\(3 attempts\\) \\(check the address and port, and that sshd runs there\\)$`));
    });

    it("a refused login: one line naming the keys tried, exit 77", async () => {
      const stranger = path.join(dir, "stranger_key");
      rmSync(stranger, { force: true });
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", stranger]);
      const file = path.join(dir, "hosts-refused.yaml");
      lab.writeHostsYaml(file, { defaults: { identityFiles: [stranger] } });
      writeFileSync(file, readFileSync(file, "utf8").replace(/\n {2}- name: h2[\s\S]*$/, "\n"));
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "squares", "10"], { env: { SSH_AUTH_SOCK: "" } });
      expect(run.code, describeRun(run)).to.equal(77);
      const lines = nonEmptyLines(run.stderr);
      expect(lines, describeRun(run)).to.have.length(1);
      expect(lines[0]).to.include(`mnt: h1 (root@${h(0).address}:22): authentication refused (tried ${stranger})`);
    });
  });

  describe("faults", () => {
    it("a link cut mid-job loses no result, the job goes on without the host, and the host rejoins when the link is back", async () => {
      const stop = path.join(dir, "stop-cut");
      rmSync(stop, { force: true });
      const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--agent-timeout", "3000", "--", "until", stop]);
      try {
        await mnt.waitForStderr(/remote-job: batch \d+ hosts h1,h2,h3/, 30_000);
        await lab.cut(h(1));
        const lost = await mnt.waitForStderr(/^\[mnt\] h2: agent lost: .*$/m, 30_000);
        const without = await mnt.waitForStderr(/^remote-job: batch \d+ hosts h1,h3$/m, 30_000, lost.end);
        await lab.restore(h(1));
        const back = await mnt.waitForStderr(/^\[mnt\] h2: agent up/m, 60_000, without.end);
        await mnt.waitForStderr(/^remote-job: batch \d+ hosts h1,h2,h3$/m, 30_000, back.end);
        writeFileSync(stop, "");
        const run = await mnt.exited;
        expect(run.code, describeRun(run)).to.equal(0);
        expect(run.stdout).to.match(/^remote-job: \d+ results correct; hosts: h1,h2,h3\n$/);
      } finally {
        mnt.child.kill("SIGKILL");
        await lab.restore(h(1)).catch(() => {});
      }
    });

    it("while a job runs, no host listens on any port but sshd's 22, and mnt listens on none", async () => {
      const stop = path.join(dir, "stop-ports");
      rmSync(stop, { force: true });
      const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "until", stop]);
      try {
        await mnt.waitForStderr(/remote-job: batch \d+ hosts h1,h2,h3/, 30_000);
        for (const host of lab.hosts) {
          expect(pidsOn(host, "agent.cjs"), `agent running on ${host.name}`).to.not.have.length(0);
          const listening = await lab.inNamespace(host, ["ss", "-Hltnu"]);
          const ports = nonEmptyLines(listening.stdout).map((line) => line.split(/\s+/)[4]);
          expect(ports, `${host.name} listens on`).to.deep.equal(["0.0.0.0:22"]);
        }
        const own = execFileSync("ss", ["-Hltnup"], { encoding: "utf8" });
        expect(own).to.not.include(`pid=${mnt.child.pid},`);
        writeFileSync(stop, "");
        expect((await mnt.exited).code).to.equal(0);
      } finally {
        mnt.child.kill("SIGKILL");
      }
    });

    it("killing the master (SIGKILL) leaves no agent or slave on any host", async () => {
      const stop = path.join(dir, "stop-never");
      const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--", "until", stop]);
      await mnt.waitForStderr(/remote-job: batch \d+ hosts h1,h2,h3/, 30_000);
      const before = lab.hosts.map((host) => pidsOn(host, "agent.cjs"));
      // An agent and its 2 slaves on each host.
      before.forEach((pids, i) => expect(pids, `processes of the run on ${h(i).name}`).to.have.length(3));
      mnt.child.kill("SIGKILL");
      await mnt.exited;
      await waitFor(() => lab.hosts.every((host) => pidsOn(host, "agent.cjs").length === 0), 20_000, "every agent and slave on every host to exit");
      expect(existsSync(stop)).to.equal(false);
    });
  });
});
