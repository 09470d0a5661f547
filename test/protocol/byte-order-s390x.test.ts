// The codec across byte orders, for real: the same seeded values (wire-values.ts) encoded on this
// little-endian machine are decoded by the official s390x Node.js (big-endian) under qemu-user, and
// the other way round, every way a host decodes (a copy; in place, aligned and at an odd address).
// Every typed-array kind at odd lengths and as views at odd element offsets, DataViews, -0, NaN,
// ±Infinity, BigInts past 2^53 and past 2^64, Dates, Maps, Sets, nested structures, Errors.
// The driver is the real codec bundled by esbuild as the agent is (dist/agent.cjs). No skips: a
// missing qemu or s390x library fails, naming the apt-get line.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { encode } from "../../core/protocol/codec.ts";
import { EMULATIONS, installCommand } from "../lab/emulation.ts";
import { foreignNode } from "../lab/foreign-node.ts";
import type { DriverInput, DriverReport } from "./s390x-driver.ts";
import { checkDecodings } from "./wire-check.ts";
import { wireCases } from "./wire-values.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const S390X = EMULATIONS.s390x;
/** Another seed explores other values: BYTE_ORDER_SEED=… npx mocha test/protocol/byte-order-s390x.test.ts */
const SEED = Number(process.env.BYTE_ORDER_SEED ?? 11);

/** What `qemu-s390x-static -L … node` needs on this machine (not the binfmt and kernel parts a lab host needs). */
function missingForQemu(): string | null {
  const missing = Object.entries(S390X.needs).filter(([file]) => !existsSync(file));
  if (missing.length === 0) return null;
  return `the s390x codec test runs Node.js under qemu and needs files that are not installed: ${missing.map(([file, pkg]) => `${file} (${pkg})`).join(", ")}; install them as root with: ${installCommand("s390x")}`;
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, QEMU_LD_PREFIX: `/usr/${S390X.triple}` } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr.slice(-4000)}`));
      else resolve(stdout);
    });
  });
}

describe("codec across byte orders: this machine and big-endian s390x Node.js (qemu)", function () {
  this.timeout(240_000);
  const cases = wireCases(SEED);
  const encodedHere: Record<string, string> = {};
  let report: DriverReport;
  let work: string;

  before(async () => {
    const missing = missingForQemu();
    if (missing) throw new Error(missing);
    const node = await foreignNode(S390X);
    work = mkdtempSync(path.join(os.tmpdir(), "mnt-byte-order-"));
    // Bundled as toolchain/build-self.mjs bundles the agent: the same msgpackr entry, the same code.
    const driver = path.join(work, "s390x-driver.cjs");
    await build({ entryPoints: [path.join(here, "s390x-driver.ts")], outfile: driver, bundle: true, platform: "node", target: "node18", format: "cjs", logLevel: "warning", absWorkingDir: root });
    for (const { name, value } of cases) encodedHere[name] = encode(value).toString("hex");
    const input: DriverInput = { seed: SEED, encoded: encodedHere };
    writeFileSync(path.join(work, "input.json"), JSON.stringify(input));
    const stdout = await run(S390X.qemu, ["-L", `/usr/${S390X.triple}`, node, driver, path.join(work, "input.json")], 200_000);
    report = JSON.parse(stdout.trim().split("\n").at(-1)!) as DriverReport;
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("the other side really is big-endian s390x, and this one little-endian", () => {
    expect(os.endianness()).to.equal("LE");
    expect({ arch: report.arch, endianness: report.endianness }).to.deep.equal({ arch: "s390x", endianness: "BE" });
    expect(cases.length).to.be.greaterThan(150);
  });

  it("encoded here, decoded on s390x (copy, in place aligned, in place at an odd address): every value as it was here", () => {
    const fromThere = report.problems.filter((p) => p.includes("of bytes encoded on x64"));
    expect(fromThere, fromThere.join("\n")).to.deep.equal([]);
  });

  it("encoded on s390x, decoded there: every value as it was (and encoding left the value untouched)", () => {
    const ownSide = report.problems.filter((p) => !p.includes("of bytes encoded on x64"));
    expect(ownSide, ownSide.join("\n")).to.deep.equal([]);
  });

  it("encoded on s390x, decoded here (copy, in place aligned, in place at an odd address): every value as it was there", () => {
    const problems: string[] = [];
    for (const { name, value, arrives } of cases) {
      const hex = report.encoded[name];
      if (hex === undefined) problems.push(`${name}: s390x sent nothing`);
      else problems.push(...checkDecodings(name, Buffer.from(hex, "hex"), arrives ?? value, "here of bytes encoded on s390x"));
    }
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("one wire: both hosts write the very same bytes for every value", () => {
    const differing = cases.filter(({ name }) => report.encoded[name] !== encodedHere[name]).map(({ name }) => `${name}: s390x wrote ${report.encoded[name]?.slice(0, 80)}…, x64 ${encodedHere[name]!.slice(0, 80)}…`);
    expect(differing, differing.join("\n")).to.deep.equal([]);
  });

  it("a Float64Array's elements are little-endian on the wire from both hosts", () => {
    // ext 8, 17 bytes, type 0x74, code 8 (Float64Array), then 1.5 and -2.25 as little-endian doubles.
    const wire = "c7117408" + "000000000000f83f" + "00000000000002c0";
    const name = "Float64Array [1.5, -2.25] (the issue's)";
    expect(encodedHere[name]).to.equal(wire);
    expect(report.encoded[name]).to.equal(wire);
  });

  it("on s390x, decodeInPlace of a placed Float64Array is a view of the received bytes (swapped where they lie)", () => {
    expect(report.inPlaceView).to.equal(true);
  });
});
