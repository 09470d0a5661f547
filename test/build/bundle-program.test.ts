// bundleProgram reuses the last bundle without running esbuild while every input it read keeps its
// size and times, and builds again as soon as one changes (even by one character of the same
// size), or when an input was written too shortly before a build for its times to be trusted.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { bundleProgram } from "../../toolchain/build/bundle-program.ts";

const PROGRAM = `import { defineProgram } from "marionette-mnt";
import { answer } from "./answer.ts";
export default defineProgram({ init: () => ({}), worker: { get: () => answer }, async main() {} });
`;

describe("bundleProgram: reuse by inputs", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "mnt-bundle-test-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  const bundleTime = (file: string) => statSync(file).mtimeMs;

  it("unchanged inputs: the same bundle, not written again; an imported file changed in one character: a new bundle", async () => {
    write("job.ts", PROGRAM);
    write("answer.ts", "export const answer = 41;\n");
    // Older than the time grain (2 s), so their times are trusted and the build is recorded.
    await sleep(2_100);
    const out = path.join(dir, "out");
    const first = await bundleProgram(path.join(dir, "job.ts"), out);
    const written = bundleTime(first.file);
    await sleep(20);
    const again = await bundleProgram(path.join(dir, "job.ts"), out);
    expect(again).to.deep.equal(first);
    expect(bundleTime(again.file), "reused, not rebuilt").to.equal(written);

    write("answer.ts", "export const answer = 42;\n");
    const edited = await bundleProgram(path.join(dir, "job.ts"), out);
    expect(edited.hash).to.not.equal(first.hash);
    expect(readFileSync(edited.file, "utf8")).to.include("42");
  });

  it("inputs written just before the build: built again each time until they are older than the grain", async () => {
    write("job.ts", PROGRAM);
    write("answer.ts", "export const answer = 1;\n");
    const out = path.join(dir, "out");
    const first = await bundleProgram(path.join(dir, "job.ts"), out);
    const written = bundleTime(first.file);
    await sleep(20);
    const again = await bundleProgram(path.join(dir, "job.ts"), out);
    expect(again.hash).to.equal(first.hash);
    expect(bundleTime(again.file), "rebuilt: nothing was recorded").to.be.greaterThan(written);
  });

  it("a bundle file removed since: built again", async () => {
    write("job.ts", PROGRAM);
    write("answer.ts", "export const answer = 7;\n");
    await sleep(2_100);
    const out = path.join(dir, "out");
    const first = await bundleProgram(path.join(dir, "job.ts"), out);
    rmSync(first.file);
    const again = await bundleProgram(path.join(dir, "job.ts"), out);
    expect(again.file).to.equal(first.file);
    expect(statSync(again.file).isFile()).to.equal(true);
  });
});
