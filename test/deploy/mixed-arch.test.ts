// The defining promise: one `mnt exec` job across hosts of different architectures (x64 and an
// arm64 host under qemu in the lab), each op using native addons of every kind (a prebuild, a
// per-platform package, a node-pre-gyp package built from source, and our own C addon), built per
// target by mnt, deployed, and giving results equal to a run on this machine.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { describeRun } from "../cli/support.ts";
import { requireLabTools, startNetnsLab, type Lab } from "../lab/lab.ts";

const PROGRAM = "examples/native-addons/native.ts";
const ITEMS = "24";

describe("one job on x64 and arm64 hosts with native addons of every kind (lab: real sshd, arm64 under qemu)", function () {
  // Cold, the native packages are cross-built for arm64 and load-tested under qemu (about a minute).
  this.timeout(900_000);
  let lab: Lab;
  let dir: string;
  let hostsFile: string;

  before(async () => {
    requireLabTools();
    lab = await startNetnsLab(2, { hosts: { h2: { arch: "arm64" } } });
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-mixed-test-"));
    hostsFile = path.join(dir, "hosts.yaml");
    // Default recovery flags: a slave starting slowly under qemu is judged by its start-up limit, not as hung.
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 1, connectTimeoutMs: 5000 } });
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("every op reports its host's process.arch, its addons were built for it, and every digest equals this machine's", async () => {
    const local = await runMnt(["exec", PROGRAM, "--slots", "2", "-q", "--", "--items", ITEMS], { timeoutMs: 600_000 });
    expect(local.code, describeRun(local)).to.equal(0);
    expect(local.stdout).to.equal(`native: ${ITEMS} items, every digest equal to this machine's (x64 ${ITEMS}; local x64)\n`);

    const remote = await runMnt(["exec", PROGRAM, "--hosts", hostsFile, "-q", "--", "--items", ITEMS, "--slaves", "2"], { timeoutMs: 600_000 });
    expect(remote.code, describeRun(remote)).to.equal(0);
    const summary = /^native: (\d+) items, every digest equal to this machine's \((.*); local x64\)\n$/.exec(remote.stdout);
    expect(summary, describeRun(remote)).to.not.equal(null);
    const perArch = Object.fromEntries(summary![2]!.split(", ").map((part) => part.split(" ")).map(([arch, n]) => [arch!, Number(n)]));
    expect(Object.keys(perArch).sort()).to.deep.equal(["arm64", "x64"]);
    expect(perArch.arm64! + perArch.x64!).to.equal(Number(ITEMS));
  });

  it("mnt build --hosts builds the targets the hosts run (probed): x64 and arm64", async () => {
    const run = await runMnt(["build", PROGRAM, "--hosts", hostsFile, "--out", path.join(dir, "by-hosts"), "--json"], { timeoutMs: 600_000 });
    expect(run.code, describeRun(run)).to.equal(0);
    const report = JSON.parse(run.stdout) as { targets: Array<{ target: string; addons: Array<{ package: string; loadTested: true | string }> }> };
    expect(report.targets.map((t) => t.target)).to.deep.equal(["linux-x64", "linux-arm64"]);
    for (const target of report.targets) {
      expect(target.addons.map((a) => a.package).sort()).to.deep.equal(["@node-rs/crc32-" + (target.target === "linux-x64" ? "linux-x64-gnu" : "linux-arm64-gnu"), "argon2", "bcrypt", "mnt-checksum"].sort());
      for (const addon of target.addons) expect(addon.loadTested, `${target.target} ${addon.package}`).to.equal(true);
    }
  });

  it("the hosts run their own target's release, and a second run deploys nothing", async () => {
    const run = await runMnt(["deploy", hostsFile, PROGRAM, "--out", path.join(dir, "build"), "--json"], { timeoutMs: 600_000 });
    expect(run.code, describeRun(run)).to.equal(0);
    const report = JSON.parse(run.stdout) as { hosts: Array<{ host: string; target: string; status: string }> };
    expect(report.hosts.map((h) => [h.host, h.target])).to.deep.equal([
      ["h1", "linux-x64"],
      ["h2", "linux-arm64"],
    ]);
    const again = JSON.parse((await runMnt(["deploy", hostsFile, PROGRAM, "--out", path.join(dir, "build"), "--json"], { timeoutMs: 600_000 })).stdout) as { hosts: Array<{ status: string; bytesSent: number }> };
    for (const host of again.hosts) expect(host).to.include({ status: "unchanged", bytesSent: 0 });
    const arch = await lab.ssh(lab.hosts[1]!, "cd ~/.cache/mnt/current && node -p 'require(\"./manifest.json\").target + \" \" + process.arch'");
    expect(arch.stdout.trim()).to.equal("linux-arm64 arm64");
  });
});
