// `mnt build` as a user runs it: a release folder per target whose manifest names every file's
// size and sha256 (checked here against the files), whose id is the manifest's hash, and which a
// second build with nothing changed leaves alone.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { describeRun, expectOneLineMntError } from "../cli/support.ts";
import { contentTime } from "../../toolchain/build/release-folder.ts";

interface BuildJson {
  ok: boolean;
  targets: Array<{ target: string; releaseId: string; dir: string; upToDate: boolean; files: number }>;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("mnt build", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), "mnt-build-test-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--arch all: a release per target, each file listed with its size and sha256, the id the manifest's hash; again: up to date", async () => {
    const out = path.join(dir, "all");
    const run = await runMnt(["build", "examples/pi/pi.ts", "--arch", "all", "--out", out, "--json"]);
    expect(run.code, describeRun(run)).to.equal(0);
    const report = JSON.parse(run.stdout) as BuildJson;
    expect(report.targets.map((t) => t.target)).to.deep.equal(["linux-x64", "linux-arm64", "linux-armv7l", "linux-riscv64", "linux-s390x"]);
    for (const target of report.targets) {
      const manifestBytes = readFileSync(path.join(target.dir, "manifest.json"));
      expect(sha256(manifestBytes).slice(0, 16)).to.equal(target.releaseId);
      const manifest = JSON.parse(manifestBytes.toString()) as { target: string; files: Array<{ path: string; size: number; sha256: string }> };
      expect(manifest.target).to.equal(target.target);
      expect(manifest.files.map((f) => f.path).sort()).to.deep.equal(readdirSync(target.dir).filter((name) => name !== "manifest.json").sort());
      for (const file of manifest.files) {
        const bytes = readFileSync(path.join(target.dir, file.path));
        expect([bytes.length, sha256(bytes)], file.path).to.deep.equal([file.size, file.sha256]);
        // Times follow contents, so rsync's quick check means "same bytes".
        expect(statSync(path.join(target.dir, file.path)).mtimeMs / 1000).to.equal(contentTime(file.sha256));
      }
    }
    const again = await runMnt(["build", "examples/pi/pi.ts", "--arch", "all", "--out", out, "--json"]);
    const second = JSON.parse(again.stdout) as BuildJson;
    expect(second.targets.map((t) => [t.upToDate, t.releaseId])).to.deep.equal(report.targets.map((t) => [true, t.releaseId]));
  });

  it("a program edited by one character: a new release id; the agent file keeps its bytes and time", async () => {
    const out = path.join(dir, "edit");
    const file = path.join(dir, "job.ts");
    const write = (n: number) => writeFileSync(file, `import { defineProgram } from "marionette-mnt";\nexport default defineProgram({ init: () => ({}), worker: { f(_c, x: number) { return x + ${n}; } }, async main() { return 0; } });\n`);
    write(1);
    const first = JSON.parse((await runMnt(["build", file, "--out", out, "--json"])).stdout) as BuildJson;
    const agentTime = statSync(path.join(out, "linux-x64", "agent.cjs")).mtimeMs;
    write(2);
    const second = JSON.parse((await runMnt(["build", file, "--out", out, "--json"])).stdout) as BuildJson;
    expect(second.targets[0]!.releaseId).to.not.equal(first.targets[0]!.releaseId);
    expect(second.targets[0]!.upToDate).to.equal(false);
    expect(statSync(path.join(out, "linux-x64", "agent.cjs")).mtimeMs).to.equal(agentTime);
  });

  it("--arch with a target mnt does not build: one line naming the targets it does, exit 64", async () => {
    const line = expectOneLineMntError(await runMnt(["build", "examples/pi/pi.ts", "--arch", "x64,sparc", "--out", path.join(dir, "bad")]), 64);
    expect(line).to.equal("mnt: --arch sparc: not a target mnt builds for (it builds linux-x64, linux-arm64, linux-armv7l, linux-riscv64, linux-s390x; all = every one)");
  });

  it("a program that does not compile: one line with its file, line and column, exit 65", async () => {
    const file = path.join(dir, "broken.ts");
    writeFileSync(file, "export default {\n");
    const line = expectOneLineMntError(await runMnt(["build", file, "--out", path.join(dir, "broken")]), 65);
    expect(line).to.match(/^mnt: \S*broken\.ts:2:\d+: /);
  });
});
