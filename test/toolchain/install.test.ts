// installNativePackages on the example project (real packages from npm, installed here without
// scripts): for x64, arm64 and armv7l every kind of addon is put in place for the target, its ELF
// machine is the target's, and it loads under the target's official Node.js (qemu); for s390x
// (big-endian) the addons with sources are built from them and load there too.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import { readElfHeader } from "../../toolchain/native/elf.ts";
import { installNativePackages } from "../../toolchain/native/install.ts";
import { loadTest } from "../../toolchain/native/load-test.ts";
import { asLockfile, packageClosure, runsOn, type Lockfile } from "../../toolchain/native/lockfile.ts";
import { checkMachine } from "../../toolchain/native/records.ts";
import type { TargetName } from "../../toolchain/targets.ts";
import { EXAMPLE_NATIVES, buildAddon, exampleProjectCopy, pathWith, removeDir, requireTools, target, tempDir, writeCAddon, writePackage } from "./support.ts";

/** Every `.node` under dir, relative to it. */
function nodeFilesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((file) => file.endsWith(".node")).sort();
}

function lockOf(project: string): Lockfile {
  return asLockfile(JSON.parse(readFileSync(path.join(project, "package-lock.json"), "utf8")), "package-lock.json");
}

describe("toolchain/native/install", function () {
  this.timeout(600_000);
  let project: string;
  let out: string;

  before(() => {
    requireTools(["linux-x64", "linux-arm64", "linux-armv7l"]);
    project = exampleProjectCopy();
    out = tempDir("releases");
  });
  after(() => {
    removeDir(project);
    removeDir(out);
  });

  describe("the closure, from the project's lock", () => {
    it("follows nested copies, links and peers; keeps only the target's platform package", () => {
      const lock = lockOf(project);
      const closure = packageClosure(lock, EXAMPLE_NATIVES, target("linux-arm64"), project);
      const at = (installPath: string) => closure.find((pkg) => pkg.installPath === installPath);
      expect(at("node_modules/bcrypt/node_modules/node-addon-api")?.version, "bcrypt's own node-addon-api 5").to.match(/^5\./);
      expect(at("node_modules/node-addon-api")?.version, "argon2's node-addon-api 8").to.match(/^8\./);
      expect(at("node_modules/@node-rs/crc32-linux-arm64-gnu")?.isPlatformPackage).to.equal(true);
      expect(closure.filter((pkg) => pkg.name.startsWith("@node-rs/crc32-")).map((pkg) => pkg.name)).to.deep.equal(["@node-rs/crc32-linux-arm64-gnu"]);
      expect(at("node_modules/mnt-checksum")?.source).to.deep.equal({ kind: "local", path: path.join(project, "addon") });
      expect(at("node_modules/@mapbox/node-pre-gyp")?.neededBy).to.deep.equal(["bcrypt"]);
      expect(at("node_modules/node-gyp-build")?.neededBy).to.deep.equal(["argon2"]);
      for (const pkg of closure) if (pkg.source.kind === "registry") expect(pkg.source.spec).to.equal(`${pkg.name}@${lock.packages[pkg.installPath]!.version}`);
    });

    it("npm's os/cpu/libc rules", () => {
      const arm64 = target("linux-arm64");
      expect(runsOn({ os: ["linux"], cpu: ["arm64"], libc: ["glibc"] }, arm64)).to.equal(true);
      expect(runsOn({ os: ["linux"], cpu: ["arm64"], libc: ["musl"] }, arm64)).to.equal(false);
      expect(runsOn({ cpu: ["!arm64"] }, arm64)).to.equal(false);
      expect(runsOn({ cpu: ["!x64"] }, arm64)).to.equal(true);
      expect(runsOn({ os: ["darwin"] }, arm64)).to.equal(false);
    });

    it("a package the lock does not have is refused with the fix", () => {
      expect(() => packageClosure(lockOf(project), ["left-pad"], target("linux-x64"), project)).to.throw(MntError, /package-lock.json has no node_modules\/left-pad \(add left-pad to the project's dependencies and run npm install\)/);
    });
  });

  for (const name of ["linux-x64", "linux-arm64", "linux-armv7l"] as TargetName[]) {
    describe(name, () => {
      const t = target(name);
      const releaseDir = () => path.join(out, name);
      let installed: Awaited<ReturnType<typeof installNativePackages>>;
      let log: string[];

      before(async () => {
        log = [];
        const started = performance.now();
        installed = await installNativePackages({ projectDir: project, packages: EXAMPLE_NATIVES, target: t, outDir: releaseDir(), onLog: (line) => log.push(line) });
        console.log(`      ${name}: installed in ${((performance.now() - started) / 1000).toFixed(1)} s (source builds ${installed.buildSeconds.toFixed(1)} s)`);
      });

      it("one addon of each kind, each for the target's machine", () => {
        const addons = installed.addons.map((addon) => ({ package: addon.package, kind: addon.kind, loadVia: addon.loadVia, elfMachine: addon.elfMachine, nodeAbi: addon.nodeAbi }));
        const arch = name === "linux-armv7l" ? "arm" : t.arch;
        expect(addons).to.deep.equal([
          { package: `@node-rs/crc32-${t.napiRsSuffix}`, kind: "platform-package", loadVia: "@node-rs/crc32", elfMachine: t.elfMachine, nodeAbi: null },
          { package: "argon2", kind: "prebuild", loadVia: "argon2", elfMachine: t.elfMachine, nodeAbi: null },
          { package: "bcrypt", kind: "source", loadVia: "bcrypt", elfMachine: t.elfMachine, nodeAbi: null },
          { package: "mnt-checksum", kind: "source", loadVia: "mnt-checksum", elfMachine: t.elfMachine, nodeAbi: null },
        ]);
        expect(installed.addons.map((addon) => addon.path)).to.deep.equal([
          `node_modules/@node-rs/crc32-${t.napiRsSuffix}/crc32.${t.napiRsSuffix}.node`,
          `node_modules/argon2/prebuilds/linux-${arch}/${readdirSync(path.join(releaseDir(), `node_modules/argon2/prebuilds/linux-${arch}`))[0]}`,
          "node_modules/bcrypt/lib/binding/napi-v3/bcrypt_lib.node",
          "node_modules/mnt-checksum/build/Release/checksum.node",
        ]);
        for (const addon of installed.addons) {
          expect(addon.napi, addon.path).to.be.within(1, 9);
          if (addon.glibc !== null) expect(addon.glibc, addon.path).to.match(/^2\.\d+$/);
        }
        expect(installed.addons.find((addon) => addon.package === "argon2")!.napi, "argon2 uses N-API 5 functions").to.equal(5);
        expect(installed.builtFromSource).to.deep.equal(["bcrypt", "mnt-checksum"]);
      });

      it("every .node in the release is an ELF file for the target (class and machine)", () => {
        const files = nodeFilesUnder(releaseDir());
        expect(files.map((file) => `node_modules/${path.relative("node_modules", file)}`)).to.deep.equal(installed.addons.map((addon) => addon.path));
        for (const file of files) {
          const header = readElfHeader(readFileSync(path.join(releaseDir(), file)));
          expect([header.machine, header.elfClass], file).to.deep.equal([t.elfMachine, t.elfClass]);
        }
      });

      it("other platforms' prebuilds and packages, musl builds, build intermediates and bins are gone", () => {
        const modules = path.join(releaseDir(), "node_modules");
        expect(readdirSync(path.join(modules, "argon2/prebuilds"))).to.deep.equal([`linux-${t.arch}`]);
        expect(readdirSync(path.join(modules, `argon2/prebuilds/linux-${t.arch}`)).some((file) => file.includes("musl"))).to.equal(false);
        expect(readdirSync(path.join(modules, "@node-rs"))).to.deep.equal(["crc32", `crc32-${t.napiRsSuffix}`]);
        expect(readdirSync(path.join(modules, "mnt-checksum/build"))).to.deep.equal(["Release"]);
        expect((readdirSync(modules, { recursive: true }) as string[]).filter((entry) => path.basename(entry) === ".bin"), "no bin links at any depth").to.deep.equal([]);
        expect(readdirSync(path.join(modules, "bcrypt")).filter((entry) => entry.startsWith("build"))).to.deep.equal([]);
        expect(readdirSync(releaseDir()), "no staging folder left").to.deep.equal(["node_modules"]);
      });

      it("every package at the version the project's lock names", () => {
        const lock = lockOf(project);
        expect(installed.packages.length).to.be.greaterThan(40);
        for (const pkg of installed.packages) {
          const manifest = JSON.parse(readFileSync(path.join(releaseDir(), pkg.installPath, "package.json"), "utf8")) as { version: string };
          const locked = lock.packages[pkg.installPath];
          const expected = locked?.link ? lock.packages[locked.resolved!]!.version : locked?.version;
          expect(manifest.version, pkg.installPath).to.equal(expected);
        }
      });

      it("every addon loads under the target's Node.js, through its package's own loader", async () => {
        const started = performance.now();
        const results = await loadTest({ dir: releaseDir(), target: t, addons: installed.addons });
        console.log(`      ${name}: load test ${((performance.now() - started) / 1000).toFixed(1)} s`);
        expect(Object.fromEntries(results)).to.deep.equal(Object.fromEntries(installed.addons.map((addon) => [addon.path, { status: "loaded", via: "package" }])));
      });

      it("reports its steps and the build's output", () => {
        expect(log[0]).to.match(new RegExp(`^${name}: argon2, bcrypt, @node-rs/crc32, mnt-checksum need \\d+ packages$`));
        expect(log).to.include(`${name}: building bcrypt, mnt-checksum from source`);
        expect(log.some((line) => line.includes("SOLINK_MODULE(target) Release/obj.target/checksum.node"))).to.equal(true);
      });
    });
  }

  describe("linux-riscv64 (no per-platform package, no prebuild, no official Node.js on npm)", () => {
    const riscv = target("linux-riscv64");

    it("argon2 falls back to a source build; @node-rs/crc32 is refused, naming the platforms it has", async () => {
      requireTools(["linux-riscv64"], "build");
      const dir = path.join(out, "riscv64");
      const installed = await installNativePackages({ projectDir: project, packages: ["argon2", "mnt-checksum"], target: riscv, outDir: dir });
      expect(installed.addons.map((addon) => [addon.package, addon.kind, addon.elfMachine])).to.deep.equal([
        ["argon2", "source", 243],
        ["mnt-checksum", "source", 243],
      ]);
      expect(existsSync(path.join(dir, "node_modules/argon2/prebuilds")), "no prebuild of another platform kept").to.equal(false);
      const results = await loadTest({ dir, target: riscv, addons: installed.addons });
      for (const result of results.values()) expect(result).to.deep.include({ status: "not-load-tested" });
      expect((results.values().next().value as { reason: string }).reason).to.match(/^no Node.js for linux-riscv64: no official Node.js for linux-riscv64 is published on the npm registry/);

      const refused = await installNativePackages({ projectDir: project, packages: ["@node-rs/crc32"], target: riscv, outDir: dir }).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(MntError);
      expect((refused as MntError).message).to.match(/^@node-rs\/crc32@1\.10\.8 has no package for linux-riscv64 \(it has .*@node-rs\/crc32-linux-arm64-gnu.*\) and no binding\.gyp to build one/);
    });
  });

  describe("linux-s390x (big-endian; no prebuild, no per-platform package; the official Node.js 20.11.0 on npm)", () => {
    const s390x = target("linux-s390x");

    // @node-rs/crc32 is refused for s390x as for riscv64 (native-example.test.ts checks the message).
    it("argon2 (no s390x prebuild) and mnt-checksum are built from source with g++-s390x-linux-gnu, are big-endian S390 files and load under the s390x Node.js", async () => {
      requireTools(["linux-s390x"]);
      const dir = path.join(out, "s390x");
      const installed = await installNativePackages({ projectDir: project, packages: ["argon2", "mnt-checksum"], target: s390x, outDir: dir });
      expect(installed.addons.map((addon) => [addon.package, addon.kind, addon.elfMachine])).to.deep.equal([
        ["argon2", "source", 22],
        ["mnt-checksum", "source", 22],
      ]);
      for (const addon of installed.addons) expect(readElfHeader(readFileSync(path.join(dir, addon.path))), addon.path).to.deep.equal({ elfClass: 64, littleEndian: false, machine: 22 });
      expect(existsSync(path.join(dir, "node_modules/argon2/prebuilds")), "no prebuild of another platform kept").to.equal(false);
      const results = await loadTest({ dir, target: s390x, addons: installed.addons });
      expect(Object.fromEntries(results)).to.deep.equal(Object.fromEntries(installed.addons.map((addon) => [addon.path, { status: "loaded", via: "package" }])));
    });
  });

  describe("msgpackr-extract@3.0.7: per-platform packages with the sources as a fallback (node-gyp-build-optional-packages)", () => {
    let fixture: string;
    before(() => {
      requireTools(["linux-arm64", "linux-riscv64"], "build");
      fixture = tempDir("msgpackr-extract");
      writePackage(fixture, { name: "fixture", version: "1.0.0", private: true, dependencies: { "msgpackr-extract": "3.0.7" } });
      execFileSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: fixture, stdio: ["ignore", "ignore", "inherit"] });
    });
    after(() => removeDir(fixture));

    it("arm64: the platform package's glibc builds, N-API and V8-ABI (115) side by side; the loader picks one", async () => {
      const t = target("linux-arm64");
      const dir = path.join(fixture, "arm64");
      const installed = await installNativePackages({ projectDir: fixture, packages: ["msgpackr-extract"], target: t, outDir: dir });
      const abi = /#define NODE_MODULE_VERSION (\d+)/.exec(readFileSync("/usr/include/node/node_version.h", "utf8"))![1];
      expect(installed.addons.map((addon) => [path.basename(addon.path), addon.package, addon.kind, addon.nodeAbi])).to.deep.equal([
        [`node.abi${abi}.glibc.node`, "@msgpackr-extract/msgpackr-extract-linux-arm64", "platform-package", abi],
        ["node.napi.glibc.node", "@msgpackr-extract/msgpackr-extract-linux-arm64", "platform-package", null],
      ]);
      const results = [...(await loadTest({ dir, target: t, addons: installed.addons })).values()];
      expect(results.filter((result) => result.status === "loaded")).to.have.length(1);
      expect(results.filter((result) => result.status === "not-load-tested")).to.have.length(1);
    });

    it("riscv64 (no platform package): built from source, a V8-ABI addon with the headers' NODE_MODULE_VERSION", async () => {
      const installed = await installNativePackages({ projectDir: fixture, packages: ["msgpackr-extract"], target: target("linux-riscv64"), outDir: path.join(fixture, "riscv64") });
      const abi = /#define NODE_MODULE_VERSION (\d+)/.exec(readFileSync("/usr/include/node/node_version.h", "utf8"))![1];
      expect(installed.addons.map((addon) => [addon.path, addon.kind, addon.elfMachine, addon.nodeAbi])).to.deep.equal([["node_modules/msgpackr-extract/build/Release/extract.node", "source", 243, abi]]);
    });
  });

  describe("refusals", () => {
    it("a .node built with --arch=arm64 but without the cross compiler is x86-64: refused, naming file and machines", () => {
      const dir = writeCAddon(tempDir("misbuilt"), "misbuilt", "");
      try {
        const file = buildAddon(dir, target("linux-arm64"), { crossCompiler: false });
        expect(readElfHeader(readFileSync(file)).machine, "node-gyp exited 0 with an x86-64 file").to.equal(62);
        expect(() => checkMachine("node_modules/misbuilt/build/Release/misbuilt.node", readFileSync(file), target("linux-arm64"))).to.throw(
          MntError,
          "node_modules/misbuilt/build/Release/misbuilt.node is built for x86-64 (62), 64-bit, but linux-arm64 needs AArch64 (183), 64-bit",
        );
        expect(() => checkMachine("x.node", readFileSync(file), target("linux-armv7l"))).to.throw(MntError, "x.node is built for x86-64 (62), 64-bit, but linux-armv7l needs ARM (40), 32-bit");
        expect(() => checkMachine("x.node", readFileSync(file), target("linux-x64"))).not.to.throw();
      } finally {
        removeDir(dir);
      }
    });

    it("a package whose install script drops the cross compiler: the build exits 0, the install refuses its x86-64 addon", async () => {
      const fixture = tempDir("script-drops-cc");
      try {
        writePackage(fixture, { name: "fixture", version: "1.0.0", private: true, dependencies: { "drops-cc": "file:./drops-cc" } });
        writeCAddon(path.join(fixture, "drops-cc"), "drops_cc", "");
        writePackage(path.join(fixture, "drops-cc"), {
          name: "drops-cc",
          version: "1.0.0",
          main: "index.js",
          // The mistake: node-gyp gets --arch (npm_config_arch) but not the compilers.
          scripts: { install: "env -u CC -u CXX -u LINK -u AR node-gyp rebuild" },
        });
        execFileSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: fixture, stdio: ["ignore", "ignore", "inherit"] });
        const outDir = path.join(fixture, "release");
        const refused = await installNativePackages({ projectDir: fixture, packages: ["drops-cc"], target: target("linux-arm64"), outDir }).catch((error: unknown) => error);
        expect(refused).to.be.instanceOf(MntError);
        expect((refused as MntError).message).to.match(/^drops-cc@1\.0\.0: node_modules\/drops-cc\/build\/Release\/drops_cc\.node is built for x86-64 \(62\), 64-bit, but linux-arm64 needs AArch64 \(183\), 64-bit \(a source build must use aarch64-linux-gnu-gcc\/g\+\+/);
        expect(readdirSync(outDir), "nothing of the refused build left").to.deep.equal([]);
      } finally {
        removeDir(fixture);
      }
    });

    it("no cross compiler on PATH: refused with the apt-get line, before anything is built", async () => {
      const bin = pathWith(["node", "npm", "tar", "make", "python3", "gcc", "g++", "ar", "sh", "env"]);
      const outDir = tempDir("no-compiler");
      try {
        const refused = await installNativePackages({ projectDir: project, packages: ["bcrypt"], target: target("linux-arm64"), outDir, env: { ...process.env, PATH: bin } }).catch((error: unknown) => error);
        expect(refused).to.be.instanceOf(MntError);
        expect((refused as MntError).message).to.equal(
          "building bcrypt from source for linux-arm64 needs aarch64-linux-gnu-gcc, aarch64-linux-gnu-g++, aarch64-linux-gnu-ar, not found (apt-get install -y g++-aarch64-linux-gnu)",
        );
        expect(readdirSync(outDir)).to.deep.equal([]);
      } finally {
        removeDir(bin);
        removeDir(outDir);
      }
    });
  });
});
