// Issue 11's promise, end to end: one `mnt exec` job on four lab hosts of four architectures — x64
// (native), arm64, armv7l (32-bit) and s390x (big-endian) under qemu — with DEFAULT flags. Worker
// ops, context ops and shared data carry typed arrays of every kind (and views at odd offsets, a
// DataView), -0, NaN, ±Infinity, BigInts past 2^53, Dates, Maps, Sets and nesting; every result,
// value by value, must equal the same job run on this machine alone. `mnt hosts check` names each
// host's byte order and word size. And the example's own N-API addon, cross-compiled by `mnt build`
// for every target (armv7l and s390x among them), loaded and called on the four hosts.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { readElfHeader } from "../../toolchain/native/elf.ts";
import { describeRun } from "../cli/support.ts";
import { runMnt, type MntRun } from "../helpers/mnt.ts";
import { requireLabTools, startNetnsLab, type Lab } from "../lab/lab.ts";
import { requireTools } from "../toolchain/support.ts";
import { compareRuns, type PlaceIdentity } from "./compare-runs.ts";
import type { JobResult } from "./four-arch-job.ts";

const JOB = "test/hetero/four-arch-job.ts";
const ADDON_PROGRAM = "examples/native-addons/checksum.ts";
/** Each host is tagged with its place, and each place's ops carry that tag: every arch runs its share. */
const PLACES: Record<string, PlaceIdentity & { host: string }> = {
  x64: { host: "h1", arch: "x64", endianness: "LE" },
  arm64: { host: "h2", arch: "arm64", endianness: "LE" },
  armv7l: { host: "h3", arch: "arm", endianness: "LE" },
  s390x: { host: "h4", arch: "s390x", endianness: "BE" },
};
const PLACE_LIST = Object.keys(PLACES).join(",");
/** Bounds, not expectations: three emulated Node.js processes share 2 cores (each starts in 1–5 s). */
const RUN_TIMEOUT_MS = 240_000;

function readResults(file: string, run: MntRun): JobResult[] {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as JobResult[];
  } catch (error) {
    throw new Error(`the job wrote no results to ${file} (${(error as Error).message})\n${describeRun(run)}`);
  }
}

describe("one job on x64, arm64, armv7l and s390x hosts (lab: real sshd; arm64, armv7l and s390x under qemu)", function () {
  this.timeout(600_000);
  let lab: Lab;
  let dir: string;
  let hostsFile: string;

  before(async () => {
    requireLabTools();
    requireTools(["linux-x64", "linux-arm64", "linux-armv7l", "linux-s390x"]);
    lab = await startNetnsLab(4, { hosts: { h2: { arch: "arm64" }, h3: { arch: "armv7l" }, h4: { arch: "s390x" } } });
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-four-arch-test-"));
    hostsFile = path.join(dir, "hosts.yaml");
    const perHost = Object.fromEntries(Object.entries(PLACES).map(([place, { host }]) => [host, { tags: [place] }]));
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 1 }, perHost });
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("mnt hosts check names each host's arch, byte order and word size", async () => {
    const check = await runMnt(["hosts", "check", hostsFile, "--json"], { timeoutMs: RUN_TIMEOUT_MS });
    expect(check.code, describeRun(check)).to.equal(0);
    const hosts = (JSON.parse(check.stdout) as { hosts: Array<{ name: string; arch: string; byteOrder: string; wordBits: number }> }).hosts;
    expect(hosts.map((h) => [h.name, h.arch, h.byteOrder, h.wordBits])).to.deep.equal([
      ["h1", "x64", "LE", 64],
      ["h2", "arm64", "LE", 64],
      ["h3", "arm", "LE", 32],
      ["h4", "s390x", "BE", 64],
    ]);
  });

  it("typed arrays of every kind, -0, NaN, ±Infinity, BigInts, Dates, Maps, Sets through worker ops, context ops and shared data: every result equals this machine's run", async () => {
    const localFile = path.join(dir, "local.json");
    const local = await runMnt(["exec", JOB, "--slots", "2", "--", "--places", PLACE_LIST, "--out", localFile], { timeoutMs: RUN_TIMEOUT_MS });
    expect(local.code, describeRun(local)).to.equal(0);

    const remoteFile = path.join(dir, "remote.json");
    const remote = await runMnt(["exec", JOB, "--hosts", hostsFile, "--", "--places", PLACE_LIST, "--pin", "--out", remoteFile], { timeoutMs: RUN_TIMEOUT_MS });
    const problems = compareRuns(readResults(localFile, local), readResults(remoteFile, remote), PLACES);
    if (problems.length > 0) expect.fail(`${problems.length} differences from the local run:\n${problems.join("\n")}\n\n${describeRun(remote)}`);

    expect(remote.code, describeRun(remote)).to.equal(0);
    expect(remote.stdout).to.equal("four-arch: 28 results, 0 failed ops; by arch: arm 7, arm64 7, s390x 7, x64 7\n");
    expect(remote.stderr, describeRun(remote)).to.match(/^\[mnt\] done in .*: 28 worker ops, 2 context ops, \d+ retried, 0 failed$/m);
  });

  it("the example's own N-API addon, cross-compiled for armv7l (ARM, 32-bit) and s390x (S390, big-endian), loads and runs on those hosts", async () => {
    const out = path.join(dir, "build");
    const build = await runMnt(["build", ADDON_PROGRAM, "--arch", "all", "--out", out, "--json"], { timeoutMs: RUN_TIMEOUT_MS });
    expect(build.code, describeRun(build)).to.equal(0);
    const report = JSON.parse(build.stdout) as { targets: Array<{ target: string; dir: string; addons: Array<{ path: string; package: string; kind: string; loadTested: true | string }> }> };
    expect(report.targets.map((t) => t.target)).to.deep.equal(["linux-x64", "linux-arm64", "linux-armv7l", "linux-riscv64", "linux-s390x"]);
    const expectedElf: Record<string, { machine: number; elfClass: 32 | 64; littleEndian: boolean }> = {
      "linux-x64": { machine: 62, elfClass: 64, littleEndian: true },
      "linux-arm64": { machine: 183, elfClass: 64, littleEndian: true },
      "linux-armv7l": { machine: 40, elfClass: 32, littleEndian: true },
      "linux-riscv64": { machine: 243, elfClass: 64, littleEndian: true },
      "linux-s390x": { machine: 22, elfClass: 64, littleEndian: false },
    };
    for (const t of report.targets) {
      expect(t.addons.map((a) => [a.path, a.package, a.kind]), t.target).to.deep.equal([["node_modules/mnt-checksum/build/Release/checksum.node", "mnt-checksum", "source"]]);
      expect(readElfHeader(readFileSync(path.join(t.dir, t.addons[0]!.path))), t.target).to.deep.equal(expectedElf[t.target]);
      // riscv64 has no official Node.js on npm to load-test under; the others are loaded under qemu.
      if (t.target === "linux-riscv64") expect(t.addons[0]!.loadTested, t.target).to.be.a("string");
      else expect(t.addons[0]!.loadTested, t.target).to.equal(true);
    }

    const run = await runMnt(["exec", ADDON_PROGRAM, "--hosts", hostsFile, "--", "--items", "8", "--tags", PLACE_LIST], { timeoutMs: RUN_TIMEOUT_MS });
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout, describeRun(run)).to.equal("checksum: 8 items, every result equal to this machine's (arm LE 2, arm64 LE 2, s390x BE 2, x64 LE 2; local x64 LE)\n");
  });
});
