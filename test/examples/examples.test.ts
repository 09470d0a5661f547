// End-to-end: each example run through the real `mnt exec`, its printed result checked against the
// sequential reference computed here with the example's own pure module.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { PNG } from "pngjs";
import { runMnt } from "../helpers/mnt.ts";
import { estimateSequential } from "../../examples/pi/sample.ts";
import { makePalette, pixelHash, renderSequential } from "../../examples/mandelbrot/render.ts";
import { describeRun, nonEmptyLines } from "../cli/support.ts";

describe("examples (mnt exec end to end)", function () {
  this.timeout(60_000);

  describe("pi", () => {
    // Smaller than the defaults (64 × 200000) to keep CI fast; the base seed is the one pi.ts sets.
    const BASE_SEED = 12345;
    const batches = 16;
    const perBatch = 20_000;
    const reference = estimateSequential(BASE_SEED, batches, perBatch);
    const expectedLine = `pi ≈ ${reference.toFixed(5)} (${batches * perBatch} samples)`;

    it("the reference estimate is within 0.01 of π (so the program exits 0)", () => {
      expect(Math.abs(reference - Math.PI)).to.be.lessThan(0.01);
    });

    for (const slots of [1, 2, 3]) {
      it(`--slots ${slots} prints the sequential reference estimate and exits 0`, async () => {
        const run = await runMnt(["exec", "examples/pi/pi.ts", "--slots", String(slots), "--", "--batches", String(batches), "--per-batch", String(perBatch)]);
        expect(run.code, describeRun(run)).to.equal(0);
        expect(nonEmptyLines(run.stdout), describeRun(run)).to.deep.equal([expectedLine]);
        expect(run.stderr).to.include(`${slots} slaves`);
      });
    }
  });

  describe("mandelbrot", () => {
    const width = 160;
    const height = 120;
    const maxIter = 200;
    const expectedHash = pixelHash(renderSequential(width, height, maxIter, makePalette()));
    let dir: string;

    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), "mnt-mandelbrot-"));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    // Grids that do not divide the size leave narrower edge tiles: the image must not care.
    for (const { slots, grid } of [
      { slots: 2, grid: 3 },
      { slots: 2, grid: 8 },
      { slots: 3, grid: 5 },
    ]) {
      it(`--slots ${slots}, grid ${grid}: prints the sequential pixel hash and writes a ${width}x${height} PNG`, async () => {
        const out = path.join(dir, `m-${slots}-${grid}.png`);
        const run = await runMnt([
          "exec", "examples/mandelbrot/mandelbrot.ts", "--slots", String(slots), "--",
          "--out", out, "--width", String(width), "--height", String(height), "--max-iter", String(maxIter), "--grid", String(grid),
        ]);
        expect(run.code, describeRun(run)).to.equal(0);
        expect(nonEmptyLines(run.stdout), describeRun(run)).to.deep.equal([`wrote ${out} ${width}x${height} sha256=${expectedHash}`]);
        expect(existsSync(out), `${out} exists`).to.equal(true);
        const png = PNG.sync.read(readFileSync(out));
        expect([png.width, png.height]).to.deep.equal([width, height]);
        // The decoded pixels are the very pixels the hash was taken of.
        expect(pixelHash(png.data)).to.equal(expectedHash);
      });
    }
  });

  describe("sweep", () => {
    it("--slots 2: every result saw its round's parameters; exits 0", async () => {
      const run = await runMnt(["exec", "examples/sweep/sweep.ts", "--slots", "2"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(nonEmptyLines(run.stdout), describeRun(run)).to.deep.equal([
        "sweep: 5 rounds × 50 points, every result saw its round's parameters; best alpha=0.6 score=1.0000",
      ]);
    });
  });
});
