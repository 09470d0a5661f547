// A slave's stdout and stderr as the master gets them: Log frames of whole lines (slave id, slot as
// the id, FLAG_STDERR for stderr), and the last 20 stderr lines kept for the exit report.
import { expect } from "chai";
import { FLAG_STDERR, FrameSplitter, FrameType, HEADER_BYTES } from "../../core/protocol/frame.ts";
import { STDERR_TAIL_LINES, SlaveOutput } from "../../remote-agent/slave-output.ts";

function setup() {
  const logs: Array<{ slave: number; slot: number; stderr: boolean; text: string }> = [];
  const splitter = new FrameSplitter((type, flags, slave, id, raw) => {
    expect(type).to.equal(FrameType.Log);
    logs.push({ slave, slot: id, stderr: (flags & FLAG_STDERR) !== 0, text: raw.subarray(HEADER_BYTES).toString() });
  });
  const output = new SlaveOutput(12, 3, (frame) => splitter.push(frame));
  return { output, logs };
}

describe("agent: a slave's output", () => {
  it("whole lines go out as one Log frame per batch, tagged with slave id and slot; stderr is flagged", () => {
    const t = setup();
    t.output.stdout.push(Buffer.from("one\ntwo\nthr"));
    t.output.stderr.push(Buffer.from("warn\n"));
    t.output.stdout.push(Buffer.from("ee\n"));
    expect(t.logs).to.deep.equal([
      { slave: 12, slot: 3, stderr: false, text: "one\ntwo" },
      { slave: 12, slot: 3, stderr: true, text: "warn" },
      { slave: 12, slot: 3, stderr: false, text: "three" },
    ]);
  });

  it("a partial last line goes out at end(); a character cut between reads arrives whole", () => {
    const t = setup();
    const bytes = Buffer.from("température\nfin é", "utf8");
    t.output.stderr.push(bytes.subarray(0, 3));
    t.output.stderr.push(bytes.subarray(3, bytes.length - 1));
    t.output.stderr.push(bytes.subarray(bytes.length - 1));
    t.output.end();
    expect(t.logs.map((l) => l.text)).to.deep.equal(["température", "fin é"]);
    expect(t.output.stderrTail).to.deep.equal(["température", "fin é"]);
  });

  it(`the stderr tail keeps the last ${STDERR_TAIL_LINES} lines, oldest first; stdout is not in it`, () => {
    const t = setup();
    for (let i = 1; i <= 30; i++) t.output.stderr.push(Buffer.from(`line ${i}\n`));
    t.output.stdout.push(Buffer.from("not in the tail\n"));
    expect(t.output.stderrTail).to.deep.equal(Array.from({ length: 20 }, (_, k) => `line ${k + 11}`));
  });
});
