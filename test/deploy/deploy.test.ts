// `mnt build` + `mnt deploy` against a lab of real sshd hosts in network namespaces, as a user
// runs them: what lands on each host (checked there with sha256sum and readlink), what a second
// deploy sends (nothing), a corrupt file mended, a shared folder sent once, old releases pruned,
// a read-only work folder refused with the previous release intact, a missing build named.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { parse, stringify } from "yaml";
import * as pty from "node-pty";
import { mntBin, repoRoot, runMnt, type MntRun } from "../helpers/mnt.ts";
import { describeRun } from "../cli/support.ts";
import { timesProgram } from "../helpers/times-program.ts";
import { requireLabTools, startNetnsLab, type Lab, type LabHost } from "../lab/lab.ts";

interface DeployJson {
  ok: boolean;
  hosts: Array<{ host: string; status: string; target: string; releaseId: string; bytesSent: number; filesChanged: number; via: string; error: string | null }>;
}
interface BuildJson {
  targets: Array<{ target: string; releaseId: string; dir: string; upToDate: boolean }>;
}

function json<T>(run: MntRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON: ${describeRun(run)}`);
  }
}

describe("mnt build and mnt deploy (a lab of real sshd hosts in network namespaces)", function () {
  this.timeout(180_000);
  let lab: Lab;
  let dir: string;
  let sharedWork: string;
  const h = (i: number) => lab.hosts[i]!;
  const onHost = async (host: LabHost, command: string) => {
    const result = await lab.ssh(host, command);
    expect(result.code, `${host.name}: ${command}\n${result.stderr}`).to.equal(0);
    return result.stdout.trim();
  };

  before(async () => {
    requireLabTools();
    lab = await startNetnsLab(6, { hosts: { h5: { rsync: false }, h6: { node: false } } });
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-deploy-test-"));
    // Every lab host sees this folder at the same path, like an NFS home.
    sharedWork = path.join(lab.sharedDir, "work");
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const hostsFile = (name: string, hosts: LabHost[], perHost: Record<string, Record<string, unknown>> = {}) => {
    const file = path.join(dir, name);
    lab.writeHostsYaml(file, { defaults: { slots: 1, connectTimeoutMs: 3000 }, perHost });
    // writeHostsYaml names every lab host: keep only the ones asked for.
    return hosts.length === lab.hosts.length ? file : restrictHosts(file, hosts);
  };

  it("deploys each host its release: current → releases/<id>, every file's sha256 right on the host; a second deploy sends nothing", async () => {
    const out = path.join(dir, "build-a");
    const job = timesProgram(dir, 2);
    const built = await runMnt(["build", job, "--out", out, "--json"]);
    expect(built.code, describeRun(built)).to.equal(0);
    const release = json<BuildJson>(built).targets.find((t) => t.target === "linux-x64")!;
    const file = hostsFile("two.yaml", [h(0), h(1)]);

    const first = await runMnt(["deploy", file, job, "--out", out, "--json"]);
    expect(first.code, describeRun(first)).to.equal(0);
    const report = json<DeployJson>(first);
    expect(report.ok).to.equal(true);
    for (const host of report.hosts) {
      // Nothing on the host to build on: one tar stream.
      expect(host).to.include({ status: "deployed", target: "linux-x64", releaseId: release.releaseId, via: "tar", error: null });
      expect(host.bytesSent).to.be.greaterThan(1000);
    }
    for (const host of [h(0), h(1)]) {
      expect(await onHost(host, "readlink ~/.cache/mnt/current")).to.equal(`releases/${release.releaseId}`);
      // The host's own sha256sum agrees with every line of the manifest.
      const check = await onHost(host, `cd ~/.cache/mnt/current && node -e 'for (const f of require("./manifest.json").files) console.log(f.sha256 + "  " + f.path)' | sha256sum -c --quiet - && echo all-good`);
      expect(check).to.equal("all-good");
    }

    const again = await runMnt(["deploy", file, job, "--out", out, "--json"]);
    expect(again.code, describeRun(again)).to.equal(0);
    for (const host of json<DeployJson>(again).hosts) expect(host).to.include({ status: "unchanged", bytesSent: 0, filesChanged: 0, releaseId: release.releaseId });

    const run = await runMnt(["exec", job, "--hosts", file, "--no-deploy", "-q"]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.equal("results 2,4,6\n");

    // A new release: rsync sends only what differs, the rest is hard-linked from the current one.
    const update = json<DeployJson>(await runMnt(["deploy", file, timesProgram(dir, 19), "--out", out, "--json"]));
    for (const host of update.hosts) {
      expect(host).to.include({ status: "deployed", via: "rsync", filesChanged: 2 });
      expect(host.bytesSent).to.be.lessThan(report.hosts[0]!.bytesSent / 4);
    }
    const inodes = await onHost(h(0), `cd ~/.cache/mnt/releases && stat -c %i ${release.releaseId}/agent.cjs ${update.hosts[0]!.releaseId}/agent.cjs | sort -u | wc -l`);
    expect(inodes, "the agent is one file linked into both releases").to.equal("1");
  });

  it("a corrupted file on a host (same size) is found by its hash and replaced", async () => {
    const out = path.join(dir, "build-b");
    const job = timesProgram(dir, 3);
    const file = hostsFile("one.yaml", [h(2)]);
    const first = await runMnt(["deploy", file, job, "--out", out, "--json"]);
    expect(first.code, describeRun(first)).to.equal(0);
    // Flip one byte in the middle of the program bundle: size and time stay as they were.
    await onHost(h(2), `cd ~/.cache/mnt/current && f=program.mjs && t=$(stat -c %y $f) && printf 'X' | dd of=$f bs=1 seek=100 conv=notrunc 2>/dev/null && touch -d "$t" $f`);
    const mended = await runMnt(["deploy", file, job, "--out", out, "--json"]);
    expect(mended.code, describeRun(mended)).to.equal(0);
    const host = json<DeployJson>(mended).hosts[0]!;
    expect(host.status).to.equal("deployed");
    expect(host.filesChanged).to.be.at.least(1);
    const check = await onHost(h(2), `cd ~/.cache/mnt/current && node -e 'for (const f of require("./manifest.json").files) console.log(f.sha256 + "  " + f.path)' | sha256sum -c --quiet - && echo all-good`);
    expect(check).to.equal("all-good");
  });

  it("two hosts whose workDir is one shared folder receive the release once", async () => {
    const out = path.join(dir, "build-c");
    const job = timesProgram(dir, 4);
    const file = hostsFile("shared.yaml", [h(0), h(1)], { [h(0).name]: { workDir: sharedWork }, [h(1).name]: { workDir: sharedWork } });
    const run = await runMnt(["deploy", file, job, "--out", out, "--json"]);
    expect(run.code, describeRun(run)).to.equal(0);
    const hosts = json<DeployJson>(run).hosts;
    expect(hosts.map((x) => x.via).sort()).to.deep.equal(["shared", "tar"]);
    const sender = hosts.find((x) => x.via === "tar")!;
    const other = hosts.find((x) => x.via === "shared")!;
    expect(sender.bytesSent).to.be.greaterThan(1000);
    expect(other.bytesSent).to.equal(0);
  });

  it("keeps the newest 3 releases; the current one is the last deployed", async () => {
    const out = path.join(dir, "build-d");
    const file = hostsFile("prune.yaml", [h(3)]);
    const ids: string[] = [];
    for (const n of [5, 6, 7, 8]) {
      const run = await runMnt(["deploy", file, timesProgram(dir, n), "--out", out, "--json"]);
      expect(run.code, describeRun(run)).to.equal(0);
      ids.push(json<DeployJson>(run).hosts[0]!.releaseId);
    }
    const left = (await onHost(h(3), "ls ~/.cache/mnt/releases")).split("\n").sort();
    expect(left).to.deep.equal(ids.slice(1).sort());
    expect(await onHost(h(3), "readlink ~/.cache/mnt/current")).to.equal(`releases/${ids[3]}`);
  });

  it("a read-only work folder: one line naming the host and the fix, exit 69, the previous release still current and whole", async () => {
    const out = path.join(dir, "build-e");
    const file = hostsFile("ro.yaml", [h(3)]);
    const before = json<DeployJson>(await runMnt(["deploy", file, timesProgram(dir, 9), "--out", out, "--json"])).hosts[0]!;
    await lab.inNamespace(h(3), ["sh", "-c", "mount --bind /root/.cache/mnt /root/.cache/mnt && mount -o remount,bind,ro /root/.cache/mnt"]);
    try {
      const run = await runMnt(["deploy", file, timesProgram(dir, 10), "--out", out]);
      expect(run.code, describeRun(run)).to.equal(69);
      const name = h(3).name;
      expect(run.stderr).to.match(new RegExp(`^\\[${name}\\] failed: ${name}: .*[Rr]ead-only.*\\(point workDir in the hosts file at a writable folder\\)$`, "m"));
      expect(await onHost(h(3), "readlink ~/.cache/mnt/current")).to.equal(`releases/${before.releaseId}`);
    } finally {
      await lab.inNamespace(h(3), ["umount", "/root/.cache/mnt"]);
    }
  });

  it("a host without rsync gets a new release over SFTP on the same connection, only what changed; a second deploy sends nothing; jobs run there", async () => {
    const out = path.join(dir, "build-g");
    const file = hostsFile("no-rsync.yaml", [h(4)]);
    const first = json<DeployJson>(await runMnt(["deploy", file, timesProgram(dir, 18), "--out", out, "--json"])).hosts[0]!;
    expect(first).to.include({ status: "deployed", via: "tar" });
    const job = timesProgram(dir, 12);
    const update = await runMnt(["deploy", file, job, "--out", out, "--json"]);
    expect(update.code, describeRun(update)).to.equal(0);
    const sent = json<DeployJson>(update).hosts[0]!;
    expect(sent).to.include({ status: "deployed", via: "sftp" });
    // The agent bundle is unchanged: only the program and the manifest go.
    expect(sent.filesChanged).to.equal(2);
    expect(sent.bytesSent).to.be.greaterThan(0).and.lessThan(first.bytesSent / 4);
    const again = json<DeployJson>(await runMnt(["deploy", file, job, "--out", out, "--json"])).hosts[0]!;
    expect(again).to.include({ status: "unchanged", bytesSent: 0, filesChanged: 0 });
    const run = await runMnt(["exec", job, "--hosts", file, "--no-deploy", "-q"]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.equal("results 12,24,36\n");
  });

  it("node: ship gives a host without Node.js the official build for its arch, and the job runs on it", async () => {
    const job = timesProgram(dir, 13);
    const file = hostsFile("ship.yaml", [h(5)], { [h(5).name]: { node: "ship" } });
    expect((await lab.ssh(h(5), "command -v node || echo none")).stdout.trim()).to.equal("none");
    const run = await runMnt(["exec", job, "--hosts", file]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.equal("results 13,26,39\n");
    expect(run.stderr).to.match(new RegExp(`^\\[mnt\\] ${h(5).name}: agent up \\(linux-x64, Node\\.js \\d+\\.\\d+\\.\\d+\\), 1 slaves$`, "m"));
    expect(await onHost(h(5), "ls ~/.cache/mnt/runtimes")).to.match(/^node-v\d+\.\d+\.\d+-linux-x64$/);
    const again = json<DeployJson>(await runMnt(["deploy", file, job, "--json"])).hosts[0]!;
    expect(again).to.include({ status: "unchanged", bytesSent: 0 });
  });

  it("exec --no-deploy refuses a host whose release is stale, naming it and the fix; without it the run deploys and goes", async () => {
    const file = hostsFile("stale.yaml", [h(1)]);
    const old = timesProgram(dir, 14);
    expect((await runMnt(["exec", old, "--hosts", file, "-q"])).code).to.equal(0);
    const changed = timesProgram(dir, 15);
    const refused = await runMnt(["exec", changed, "--hosts", file, "--no-deploy", "-q"]);
    expect(refused.code, describeRun(refused)).to.equal(69);
    expect(refused.stderr).to.match(new RegExp(`^mnt: ${h(1).name}: release [0-9a-f]{16} \\(linux-x64\\) is not deployed there \\(missing\\) \\(run mnt deploy, or drop --no-deploy\\)$`, "m"));
    expect(refused.stdout).to.equal("");
    const run = await runMnt(["exec", changed, "--hosts", file, "-q"]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.equal("results 15,30,45\n");
  });

  it("a host that cannot be reached fails the deploy (exit 69) unless --allow-partial, and --json names it", async () => {
    const file = hostsFile("partial.yaml", [h(0)]);
    const inventory = parse(readFileSync(file, "utf8")) as { hosts: Array<Record<string, unknown>> };
    // Nothing listens on port 2 of the host: the connection is refused at once.
    inventory.hosts.push({ ...inventory.hosts[0], name: "nowhere", port: 2 });
    writeFileSync(file, stringify(inventory));
    const job = timesProgram(dir, 16);
    const strict = await runMnt(["deploy", file, job, "--out", path.join(dir, "build-h"), "--json"]);
    expect(strict.code, describeRun(strict)).to.equal(69);
    const report = json<DeployJson>(strict);
    expect(report.ok).to.equal(false);
    expect(report.hosts.map((x) => x.status)).to.deep.equal(["deployed", "failed"]);
    expect(report.hosts[1]!.error).to.match(/^nowhere \(.*\): cannot connect: /);
    const partial = await runMnt(["deploy", file, job, "--out", path.join(dir, "build-h"), "--allow-partial", "--json"]);
    expect(partial.code, describeRun(partial)).to.equal(0);
    expect(json<DeployJson>(partial).hosts.map((x) => x.status)).to.deep.equal(["unchanged", "failed"]);
  });

  it("on a terminal: a listr2 task per host that ends with its release and what was sent", async () => {
    const file = hostsFile("tty.yaml", [h(0), h(1)]);
    const job = timesProgram(dir, 17);
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    delete env.CI;
    delete env.NO_COLOR;
    const terminal = pty.spawn(process.execPath, [mntBin, "deploy", file, job, "--out", path.join(dir, "build-tty")], { cols: 200, rows: 40, cwd: repoRoot, env });
    let screen = "";
    terminal.onData((data) => (screen += data));
    const exitCode = await new Promise<number>((resolve) => terminal.onExit(({ exitCode: code }) => resolve(code)));
    expect(exitCode, screen).to.equal(0);
    const plain = screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    for (const host of [h(0), h(1)]) expect(plain).to.match(new RegExp(`✔ ${host.name}: linux-x64 release [0-9a-f]{16}: \\d+ files, [\\d.]+ KiB sent \\(rsync\\) in [\\d.]+ s`));
  });

  it("deploying without a program sends what `mnt build` made; a target that was not built is named with the build to run", async () => {
    const out = path.join(dir, "build-f");
    const job = timesProgram(dir, 11);
    const built = await runMnt(["build", job, "--arch", "arm64", "--out", out]);
    expect(built.code, describeRun(built)).to.equal(0);
    const run = await runMnt(["deploy", hostsFile("missing.yaml", [h(0)]), "--out", out]);
    expect(run.code, describeRun(run)).to.equal(69);
    expect(run.stderr).to.include(`${h(0).name}: no linux-x64 release under ${out} (run: mnt build <program> --arch x64 --out ${out})`);
  });
});

/** The hosts file with only the named hosts' entries. */
function restrictHosts(file: string, keep: LabHost[]): string {
  const names = new Set(keep.map((host) => host.name));
  const inventory = parse(readFileSync(file, "utf8")) as { hosts: Array<{ name: string }> };
  inventory.hosts = inventory.hosts.filter((host) => names.has(host.name));
  writeFileSync(file, stringify(inventory));
  return file;
}
