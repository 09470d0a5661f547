import { expect } from "chai";
import { artefactId, compareDotted, highestVersion, manifestBytes, releaseId, sha256Hex, type Manifest } from "../../core/protocol/manifest.ts";

const manifest = (files: Manifest["files"]): Manifest => ({
  format: 1,
  target: "linux-arm64",
  agent: "agent.cjs",
  program: "program.mjs",
  agentBuild: "0123456789abcdef",
  files,
  addons: [],
  requires: { napi: null, nodeAbi: null, glibc: null },
});

describe("manifest (one identity per artefact)", () => {
  it("names an artefact by the first 16 hex digits of its sha256, as sha256sum prints it", () => {
    expect(sha256Hex("abc")).to.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(artefactId("abc")).to.equal("ba7816bf8f01cfea");
  });

  it("gives equal releases the same id whatever order their files were listed in", () => {
    const a = { path: "a.js", size: 1, sha256: sha256Hex("a") };
    const b = { path: "node_modules/b/b.node", size: 2, sha256: sha256Hex("bb") };
    expect(releaseId(manifest([a, b]))).to.equal(releaseId(manifest([b, a])));
    expect(manifestBytes(manifest([b, a])).toString()).to.equal(manifestBytes(manifest([a, b])).toString());
  });

  it("gives a release another id when one byte of one file differs", () => {
    const a = { path: "a.js", size: 1, sha256: sha256Hex("a") };
    expect(releaseId(manifest([a]))).to.not.equal(releaseId(manifest([{ ...a, sha256: sha256Hex("b") }])));
  });

  it("writes the target on a line of its own (the host's prune script greps for it)", () => {
    expect(manifestBytes(manifest([])).toString()).to.match(/^ "target": "linux-arm64",$/m);
  });

  it("compares glibc-style versions numerically", () => {
    expect(compareDotted("2.17", "2.4")).to.be.greaterThan(0);
    expect(compareDotted("2.34", "2.34")).to.equal(0);
    expect(highestVersion([null, "2.17", "2.34", "2.4"])).to.equal("2.34");
    expect(highestVersion([null])).to.equal(null);
  });
});
