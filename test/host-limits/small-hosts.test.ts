// Limits of small hosts, end to end on real hosts (issue 11, part 3): a lab of an x64 host, an
// armv7l host (32-bit: its Node.js allocates at most 2^30 - 1 bytes in one buffer) and an s390x host
// (big-endian), the emulated ones under qemu. `mnt hosts check` shows each host's byte order and word
// size as the host itself reports them; a 1 GiB op input and a 1 GiB shared value run on the x64 host
// with exact results and never travel to the armv7l host; with the armv7l host alone those two ops
// fail with one line naming the host, the value and its size, and the other ops of the run succeed.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { describeRun, fixture, nonEmptyLines } from "../cli/support.ts";
import { runMnt } from "../helpers/mnt.ts";
import { requireLabTools, startNetnsLab, type Lab } from "../lab/lab.ts";

/** The value both big ops carry: a Uint8Array of 2^30 bytes, encoded behind a 7-byte header (msgpack ext32 and the typed-array code). */
const SHARED_BYTES = 2 ** 30 + 7;
/** The op's message: the encoded input behind a 12-byte prefix (core/protocol/op-frames.ts). */
const INPUT_MESSAGE_BYTES = SHARED_BYTES + 12;
const LARGEST_32_BIT_BUFFER = 2 ** 30 - 1;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("limits of small hosts (lab: x64, armv7l and s390x under qemu, real sshd)", function () {
  // A gigabyte is encoded, hashed and sent through SSH to the x64 host (about 100 MiB/s), and the
  // emulated hosts start Node.js in seconds: generous, bounded.
  this.timeout(600_000);
  let lab: Lab;
  let dir: string;
  let allHosts: string;
  let x64AndArm: string;
  let armAlone: string;

  before(async () => {
    requireLabTools();
    lab = await startNetnsLab(3, { hosts: { h2: { arch: "armv7l" }, h3: { arch: "s390x" } } });
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-host-limits-"));
    const write = (name: string, only?: string[]) => {
      const file = path.join(dir, name);
      lab.writeHostsYaml(file, { defaults: { slots: 1, connectTimeoutMs: 5000 }, only });
      return file;
    };
    allHosts = write("all.yaml");
    x64AndArm = write("x64-armv7l.yaml", ["h1", "h2"]);
    armAlone = write("armv7l.yaml", ["h2"]);
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("mnt hosts check shows each host's byte order and word size: LE 64-bit, LE 32-bit, BE 64-bit (and in --json)", async () => {
    const table = await runMnt(["hosts", "check", allHosts], { timeoutMs: 120_000 });
    expect(table.code, describeRun(table)).to.equal(0);
    const rows = nonEmptyLines(table.stdout);
    expect(rows[0]).to.match(/^host\s+status\s+host key\s+os\/arch\s+order\/word\s+node\s/);
    expect(table.stdout).to.match(/^h1\s+ok\s+known\s+Linux\/x64\s+LE 64-bit\s/m);
    expect(table.stdout).to.match(/^h2\s+ok\s+known\s+Linux\/arm\s+LE 32-bit\s/m);
    expect(table.stdout).to.match(/^h3\s+ok\s+known\s+Linux\/s390x\s+BE 64-bit\s/m);
    const json = await runMnt(["hosts", "check", allHosts, "--json"], { timeoutMs: 120_000 });
    expect(json.code, describeRun(json)).to.equal(0);
    const report = JSON.parse(json.stdout) as { hosts: Array<{ name: string; arch: string; byteOrder: string; wordBits: number }> };
    expect(report.hosts.map((h) => [h.name, h.arch, h.byteOrder, h.wordBits])).to.deep.equal([
      ["h1", "x64", "LE", 64],
      ["h2", "arm", "LE", 32],
      ["h3", "s390x", "BE", 64],
    ]);
  });

  it("with an x64 host beside the armv7l one, the 1 GiB input and the 1 GiB shared value run on x64 with exact results; the armv7l host refuses the shared value unfetched and never gets the input", async () => {
    const run = await runMnt(["exec", fixture("host-limits.ts"), "--hosts", x64AndArm, "--", "x64,arm"], { timeoutMs: 540_000 });
    expect(run.code, describeRun(run)).to.equal(0);
    const lines = nonEmptyLines(run.stdout);
    expect(lines[0]).to.equal("where: ran on arm,x64");
    // The x64 slave's pipeline holds the checksum and at most one digest: two or three digests went to
    // the armv7l slave first, were refused there, and ran again on x64.
    expect(lines[1]).to.match(/^exact: checksum on x64, digest 0 on x64, digest 1 on x64, digest 2 on x64; digests run again after a refusal: [23]$/);
    expect(lines[2]).to.equal("where: 4 more ran");
    // One copy of the shared value went out, to the x64 host's agent: the armv7l agent fetched none.
    expect(lines[3]).to.equal(`host-limits: 0 failed, shared bytes sent ${SHARED_BYTES}`);
    expect(run.stderr).to.match(/^\[mnt\] h2: agent up \(linux-arm, Node\.js 20\.11\.0\), 1 slave/m);
  });

  it("with the armv7l host alone, those ops fail naming the host, the value and its size; the other ops succeed and the run counts them failed", async () => {
    const run = await runMnt(["exec", fixture("host-limits.ts"), "--hosts", armAlone, "--", "arm"], { timeoutMs: 300_000 });
    expect(run.code, describeRun(run)).to.equal(3);
    const lines = nonEmptyLines(run.stdout);
    const size = (bytes: number) => `1 GiB (${bytes.toLocaleString("en-US")} bytes)`;
    const limit = `larger than the ${LARGEST_32_BIT_BUFFER.toLocaleString("en-US")} bytes a 32-bit Node.js can allocate on h2`;
    const hint = "(run it with a host that can hold the value (64-bit, with more free memory), or make the value smaller)";
    expect(lines[0]).to.equal("where: ran on arm");
    expect(lines[1]).to.match(new RegExp(`^checksum: failed: op \`checksum\` #\\d+ can run on no host: its input is ${escape(size(INPUT_MESSAGE_BYTES))}, ${escape(limit)} ${escape(hint)}$`));
    for (let i = 0; i < 3; i++) {
      expect(lines[2 + i]).to.match(new RegExp(`^digest ${i}: failed: op \`digest\` #\\d+ can run on no host: shared value "big" is ${escape(size(SHARED_BYTES))}, ${escape(limit)} ${escape(hint)}$`));
    }
    expect(lines[5]).to.equal("where: 4 more ran");
    // Nothing large was sent to the host: not the input (the master knew its limit), not the shared value (its agent refused it).
    expect(lines[6]).to.equal("host-limits: 4 failed, shared bytes sent 0");
    expect(run.stderr).to.match(/done in [\d.]+ s: \d+ worker ops, 0 context ops, 0 retried, 4 failed/);
  });
});
