// The example program end to end without the CLI: bundled with esbuild, its native imports marked
// external by isNativePackage (as the build's plugin does), node_modules installed per target, and
// its worker op run by the target's Node.js (under qemu): every digest must equal this machine's.
import { expect } from "chai";
import { build, type Plugin } from "esbuild";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findInstalledPackage, isNativePackage } from "../../toolchain/native/detect.ts";
import { installNativePackages } from "../../toolchain/native/install.ts";
import { officialNode } from "../../toolchain/native/official-node.ts";
import type { Target, TargetName } from "../../toolchain/targets.ts";
import { EXAMPLE_DIR, exampleProjectCopy, removeDir, requireTools, target, tempDir } from "./support.ts";

const PROGRAM_API = fileURLToPath(new URL("../../core/program/index.ts", import.meta.url));

/** Marks bare imports of native packages external and collects their names. */
function nativeExternals(projectDir: string, found: Set<string>): Plugin {
  return {
    name: "native-externals",
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("node:") || args.path === "marionette-mnt") return undefined;
        const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0]!;
        const dir = findInstalledPackage(projectDir, name);
        if (!dir || !isNativePackage(dir)) return undefined;
        found.add(name);
        return { path: args.path, external: true };
      });
    },
  };
}

/** Runs the program's `digest` op on each item in the release folder with `node` (and qemu), returns the reports. */
function runOps(release: string, t: Target, node: string, items: unknown[]): { arch: string; compiledFor: string; digest: Record<string, unknown> }[] {
  const runner = path.join(release, "run-ops.mjs");
  writeFileSync(
    runner,
    `const { default: program } = await import("./program.mjs");
const out = [];
for (const item of JSON.parse(process.env.ITEMS)) out.push(await program.worker.digest({}, item));
console.log(JSON.stringify(out));\n`,
  );
  const command = t.qemu ? [t.qemu, "-L", t.sysroot!, node, runner] : [node, runner];
  const stdout = execFileSync(command[0]!, command.slice(1), { cwd: release, env: { ...process.env, ITEMS: JSON.stringify(items) }, encoding: "utf8" });
  return JSON.parse(stdout) as ReturnType<typeof runOps>;
}

describe("examples/native-addons on x64, arm64 and armv7l (and why not s390x)", function () {
  this.timeout(600_000);
  const names: TargetName[] = ["linux-x64", "linux-arm64", "linux-armv7l"];
  const items = Array.from({ length: 4 }, (_, index) => ({ index, text: `item ${index}: ${"marionette ".repeat(index)}` }));
  let project: string;
  let out: string;
  let bundle: string;
  const externals = new Set<string>();

  before(async () => {
    requireTools(names);
    project = exampleProjectCopy();
    out = tempDir("example-releases");
    const result = await build({
      entryPoints: [path.join(EXAMPLE_DIR, "native.ts")],
      bundle: true,
      write: false,
      platform: "node",
      format: "esm",
      target: "node18",
      logLevel: "silent",
      alias: { "marionette-mnt": PROGRAM_API },
      // The example's sources import packages installed in the project copy.
      nodePaths: [path.join(project, "node_modules")],
      plugins: [nativeExternals(project, externals)],
    });
    bundle = result.outputFiles[0]!.text;
  });
  after(() => {
    removeDir(project);
    removeDir(out);
  });

  it("the bundle leaves exactly the four native packages external", () => {
    expect([...externals].sort()).to.deep.equal(["@node-rs/crc32", "argon2", "bcrypt", "mnt-checksum"]);
  });

  it("every target computes the digests this machine computes, with addons compiled for it", async () => {
    const reports = new Map<TargetName, ReturnType<typeof runOps>>();
    for (const name of names) {
      const t = target(name);
      const release = path.join(out, name);
      await installNativePackages({ projectDir: project, packages: [...externals], target: t, outDir: release });
      writeFileSync(path.join(release, "program.mjs"), bundle);
      const node = t.qemu ? (await officialNode(t)).node : process.execPath;
      const started = performance.now();
      reports.set(name, runOps(release, t, node, items));
      console.log(`      ${name}: ${items.length} ops in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const local = reports.get("linux-x64")!;
    for (const [name, report] of reports) {
      const arch = target(name).arch;
      expect(report.map((r) => [r.arch, r.compiledFor]), name).to.deep.equal(items.map(() => [arch, arch]));
      expect(report.map((r) => r.digest), name).to.deep.equal(local.map((r) => r.digest));
    }
    expect(new Set(local.map((r) => r.digest.bcrypt)).size, "different inputs, different digests").to.equal(items.length);
  });

  it("linux-s390x is refused, naming @node-rs/crc32: it publishes no s390x package and has no sources to build one", async () => {
    const release = path.join(out, "linux-s390x");
    let refused: Error | null = null;
    await installNativePackages({ projectDir: project, packages: [...externals], target: target("linux-s390x"), outDir: release }).catch((error: Error) => (refused = error));
    expect(refused, "the s390x install was refused").to.not.equal(null);
    expect(refused!.message).to.match(/^@node-rs\/crc32@1\.10\.8 has no package for linux-s390x \(it has .*@node-rs\/crc32-linux-arm64-gnu.*\) and no binding\.gyp to build one \(leave linux-s390x out of --arch, or replace @node-rs\/crc32\)$/);
  });
});
