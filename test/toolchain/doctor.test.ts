// The doctor on this machine's real tools, and on PATHs made without some of them.
import { expect } from "chai";
import { aptGetLine, checkTarget, doctor } from "../../toolchain/doctor.ts";
import { TARGETS } from "../../toolchain/targets.ts";
import { pathWith, removeDir, requireTools, target, tempDir } from "./support.ts";

// What node-gyp needs besides the compilers, and this machine's own compilers.
const COMMON = ["make", "python3", "gcc", "g++", "ar"];
const cross = (triple: string) => [`${triple}-gcc`, `${triple}-g++`, `${triple}-ar`];

describe("toolchain/doctor", () => {
  const made: string[] = [];
  const madePath = (commands: string[]) => {
    const dir = pathWith(commands);
    made.push(dir);
    return dir;
  };
  after(() => made.forEach(removeDir));

  it("finds the compilers, emulators and libraries of x64, arm64, armv7l and s390x on this machine", () => {
    requireTools(["linux-x64", "linux-arm64", "linux-armv7l", "linux-s390x"]);
    const report = doctor(["linux-x64", "linux-arm64", "linux-armv7l", "linux-s390x"].map((name) => target(name as never)));
    for (const t of report.targets) {
      expect(t.canBuild, t.target.name).to.equal(true);
      expect(t.canLoadTest, t.target.name).to.equal(true);
    }
    expect(report.missingPackages).to.deep.equal([]);
    expect(report.aptGetLine).to.equal(null);
    const arm64 = report.targets[1]!;
    expect(arm64.build.map((check) => check.name)).to.include.members(cross("aarch64-linux-gnu"));
    expect(arm64.loadTest.map((check) => check.name)).to.deep.equal(["qemu-aarch64-static", "/usr/aarch64-linux-gnu/lib/libc.so.6", "/usr/aarch64-linux-gnu/lib/libstdc++.so.6"]);
    expect(report.targets[0]!.loadTest, "x64 runs natively").to.deep.equal([]);
    const s390x = report.targets[3]!;
    expect(s390x.build.map((check) => check.name)).to.include.members(cross("s390x-linux-gnu"));
    expect(s390x.loadTest.map((check) => check.name)).to.deep.equal(["qemu-s390x-static", "/usr/s390x-linux-gnu/lib/libc.so.6", "/usr/s390x-linux-gnu/lib/libstdc++.so.6"]);
  });

  it("names g++-s390x-linux-gnu when the s390x cross compilers are not on PATH", () => {
    const path = madePath([...COMMON, "qemu-s390x-static"]);
    const report = doctor([target("linux-x64"), target("linux-s390x")], { path });
    const s390x = report.targets[1]!;
    expect(s390x.canBuild).to.equal(false);
    expect(s390x.canLoadTest).to.equal(true);
    expect(s390x.build.filter((check) => check.found === null).map((check) => check.name)).to.deep.equal(cross("s390x-linux-gnu"));
    expect(report.aptGetLine).to.equal("apt-get install -y g++-s390x-linux-gnu");
  });

  it("one line for everything missing: compilers, make, python3, the emulator, each package once", () => {
    const path = madePath(["gcc", "g++", "ar"]);
    const report = doctor([target("linux-arm64"), target("linux-armv7l")], { path });
    expect(report.missingPackages).to.deep.equal(["g++-aarch64-linux-gnu", "make", "python3", "qemu-user-static", "g++-arm-linux-gnueabihf"]);
    expect(report.aptGetLine).to.equal("apt-get install -y g++-aarch64-linux-gnu make python3 qemu-user-static g++-arm-linux-gnueabihf");
  });

  it("names nodejs when Node's headers are not in nodedir (node-gyp would download them)", () => {
    const empty = tempDir("nodedir");
    made.push(empty);
    const report = checkTarget(target("linux-x64"), { nodedir: empty });
    const headers = report.build.find((check) => check.kind === "node-headers")!;
    expect(headers.found).to.equal(null);
    expect(headers.debianPackage).to.equal("nodejs");
    expect(report.canBuild).to.equal(false);
  });

  it("covers every target of the table, riscv64 and s390x included", () => {
    const report = doctor(TARGETS);
    expect(report.targets.map((t) => t.target.name)).to.deep.equal(TARGETS.map((t) => t.name));
    const riscv = report.targets.find((t) => t.target.name === "linux-riscv64")!;
    expect(riscv.build.map((check) => check.name)).to.include.members(cross("riscv64-linux-gnu"));
    expect(riscv.loadTest[0]!.name).to.equal("qemu-riscv64-static");
    const s390x = report.targets.find((t) => t.target.name === "linux-s390x")!;
    expect(s390x.loadTest[0]!.name).to.equal("qemu-s390x-static");
  });

  it("aptGetLine: null for nothing", () => {
    expect(aptGetLine([])).to.equal(null);
    expect(aptGetLine(["a", "b"])).to.equal("apt-get install -y a b");
  });
});
