// `mnt --help` and `mnt exec --help` show usage with examples and exit 0.
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { describeRun } from "./support.ts";

describe("mnt --help", function () {
  this.timeout(30_000);

  it("mnt --help lists the exec command and examples", async () => {
    const run = await runMnt(["--help"]);
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.stdout).to.include("mnt exec <program>");
    expect(run.stdout).to.include("Examples:");
    expect(run.stdout).to.include("mnt exec examples/pi/pi.ts");
    expect(run.stdout).to.include("examples/mandelbrot/mandelbrot.ts");
  });

  it("mnt exec --help shows its options and examples", async () => {
    const run = await runMnt(["exec", "--help"]);
    expect(run.code, describeRun(run)).to.equal(0);
    for (const text of ["--slots", "--json", "--quiet", "Examples:", "mnt exec examples/pi/pi.ts --slots 4 --", "--batches 128", "--json > summary.json"]) {
      expect(run.stdout, `mentions ${text}`).to.include(text);
    }
  });
});
