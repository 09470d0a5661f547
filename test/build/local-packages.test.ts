// The native cache's view of the project's own packages: an edit to a file: addon's sources
// changes the fingerprint (so its build is not served stale); its build output does not.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { localPackagePaths, localPackagesFingerprint } from "../../toolchain/build/local-packages.ts";
import type { Lockfile } from "../../toolchain/native/lockfile.ts";

describe("the project's own packages in the native cache key", () => {
  let project: string;
  const lock: Lockfile = {
    lockfileVersion: 3,
    packages: {
      "": { name: "app", version: "1.0.0" },
      "addon": { name: "my-addon", version: "1.0.0" },
      "node_modules/my-addon": { resolved: "addon", link: true },
      "node_modules/left-pad": { version: "1.3.0", resolved: "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz" },
      "node_modules/packed": { version: "1.0.0", resolved: "file:vendor/packed-1.0.0.tgz" },
    },
  };

  beforeEach(() => {
    project = mkdtempSync(path.join(os.tmpdir(), "mnt-local-packages-"));
    mkdirSync(path.join(project, "addon", "src"), { recursive: true });
    mkdirSync(path.join(project, "vendor"));
    writeFileSync(path.join(project, "addon", "src", "addon.c"), "int x = 1;\n");
    writeFileSync(path.join(project, "addon", "binding.gyp"), "{}\n");
    writeFileSync(path.join(project, "vendor", "packed-1.0.0.tgz"), "tarball bytes");
  });
  afterEach(() => rmSync(project, { recursive: true, force: true }));

  it("names the linked folder and the file: tarball, not registry packages", () => {
    expect(localPackagePaths(lock, project)).to.deep.equal([path.join(project, "addon"), path.join(project, "vendor", "packed-1.0.0.tgz")]);
  });

  it("changes when a source file of a local addon or the tarball changes, not when its build output does", () => {
    const before = localPackagesFingerprint(lock, project);
    mkdirSync(path.join(project, "addon", "build", "Release"), { recursive: true });
    writeFileSync(path.join(project, "addon", "build", "Release", "addon.node"), "binary");
    mkdirSync(path.join(project, "addon", "node_modules", "dep"), { recursive: true });
    writeFileSync(path.join(project, "addon", "node_modules", "dep", "index.js"), "x");
    expect(localPackagesFingerprint(lock, project)).to.equal(before);
    writeFileSync(path.join(project, "addon", "src", "addon.c"), "int x = 2;\n");
    const edited = localPackagesFingerprint(lock, project);
    expect(edited).to.not.equal(before);
    writeFileSync(path.join(project, "vendor", "packed-1.0.0.tgz"), "other tarball bytes");
    expect(localPackagesFingerprint(lock, project)).to.not.equal(edited);
  });

  it("is null for a project with only registry packages", () => {
    expect(localPackagesFingerprint({ lockfileVersion: 3, packages: { "": { name: "app" }, "node_modules/left-pad": { version: "1.3.0" } } }, project)).to.equal(null);
  });
});
