// Which packages cannot be bundled: real packages from npm (the example project installed without
// scripts, as a user may), plus package folders written here for the shapes npm does not offer small.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { findInstalledPackage, isNativePackage, nativeReason, perPlatformPackages } from "../../toolchain/native/detect.ts";
import { exampleProjectCopy, removeDir, tempDir, writePackage } from "./support.ts";

describe("toolchain/native/detect", function () {
  this.timeout(120_000);
  let project: string;
  let shapes: string;
  const installed = (name: string) => path.join(project, "node_modules", name);

  before(() => {
    project = exampleProjectCopy();
    shapes = tempDir("shapes");
  });
  after(() => {
    removeDir(project);
    removeDir(shapes);
  });

  it("argon2 (prebuilds, node-gyp-build), bcrypt@5 (node-pre-gyp), our addon (binding.gyp) are native", () => {
    expect(nativeReason(installed("argon2"))).to.equal("has binding.gyp");
    expect(nativeReason(installed("bcrypt"))).to.equal("has binding.gyp");
    expect(nativeReason(installed("mnt-checksum"))).to.equal("has binding.gyp");
  });

  it("@node-rs/crc32 is native through its per-platform packages (the x64 one installed here declares os/cpu)", () => {
    expect(isNativePackage(installed("@node-rs/crc32"))).to.equal(true);
    expect(nativeReason(installed("@node-rs/crc32"))).to.match(/^has per-platform packages/);
    const platforms = perPlatformPackages(installed("@node-rs/crc32"));
    expect(platforms).to.include.members(["@node-rs/crc32-linux-x64-gnu", "@node-rs/crc32-linux-arm64-gnu", "@node-rs/crc32-win32-x64-msvc"]);
    // The platform package itself ships the addon.
    expect(nativeReason(installed("@node-rs/crc32-linux-x64-gnu"))).to.equal("ships crc32.linux-x64-gnu.node");
  });

  it("per-platform packages not installed here (npm install --omit=optional) are told by their names", () => {
    const bare = tempDir("omit-optional");
    try {
      writePackage(bare, { name: "bare", version: "1.0.0", private: true, dependencies: { "@node-rs/crc32": "1.10.8" } });
      execFileSync("npm", ["install", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: bare, stdio: ["ignore", "ignore", "inherit"] });
      const dir = path.join(bare, "node_modules/@node-rs/crc32");
      expect(findInstalledPackage(dir, "@node-rs/crc32-linux-x64-gnu")).to.equal(null);
      expect(isNativePackage(dir)).to.equal(true);
    } finally {
      removeDir(bare);
    }
  });

  it("esbuild (per-platform binary packages) is native; this repository's pure-JavaScript packages are not", () => {
    const root = path.resolve("node_modules");
    expect(nativeReason(path.join(root, "esbuild"))).to.match(/^has per-platform packages \(@esbuild\//);
    for (const name of ["yaml", "zod", "yargs", "shell-quote"]) expect(isNativePackage(path.join(root, name)), name).to.equal(false);
  });

  it("the loaders themselves and the example's JavaScript dependencies are bundled", () => {
    for (const name of ["node-gyp-build", "@mapbox/node-pre-gyp", "node-addon-api", "semver", "cross-env", "@phc/format"]) {
      expect(isNativePackage(installed(name)), name).to.equal(false);
    }
  });

  it("each documented sign alone makes a package native", () => {
    const make = (name: string, manifest: Record<string, unknown>, files: Record<string, string> = {}) =>
      writePackage(path.join(shapes, name), { name, version: "1.0.0", ...manifest }, files);
    expect(nativeReason(make("gyp", {}, { "binding.gyp": "{}" }))).to.equal("has binding.gyp");
    expect(nativeReason(make("gypfile", { gypfile: true }))).to.equal("has binding.gyp");
    expect(nativeReason(make("prebuilt", {}, { "prebuilds/linux-x64/x.node": "" }))).to.equal("has prebuilds/");
    expect(nativeReason(make("nested-node", {}, { "lib/native/x.node": "" }))).to.equal("ships lib/native/x.node");
    for (const loader of ["node-gyp-build", "bindings", "prebuild-install", "@mapbox/node-pre-gyp", "node-gyp-build-optional-packages"]) {
      expect(nativeReason(make(`uses-${loader.replace(/\W/g, "-")}`, { dependencies: { [loader]: "*" } })), loader).to.equal(`depends on ${loader}`);
    }
    expect(nativeReason(make("pure", { dependencies: { semver: "*" }, optionalDependencies: { "some-helper": "*" } }, { "index.js": "" }))).to.equal(null);
    // A .node inside its own node_modules belongs to another package.
    expect(nativeReason(make("carrier", {}, { "node_modules/inner/x.node": "", "index.js": "" }))).to.equal(null);
  });
});
