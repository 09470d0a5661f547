// Lines from a byte stream: partial lines wait for the rest, and UTF-8 characters split across
// chunks arrive whole (a pipe or an SSH channel cuts wherever it likes).
import { expect } from "chai";
import { LineSplitter } from "../../core/protocol/line-splitter.ts";

function linesOf(chunks: Buffer[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((batch) => lines.push(...batch));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  it("splits on newlines; a partial last line waits for the rest, or for end()", () => {
    expect(linesOf([Buffer.from("a\nb"), Buffer.from("c\n\nd")])).to.deep.equal(["a", "bc", "", "d"]);
  });

  it("a multi-byte character cut between two chunks, at every byte boundary, arrives whole", () => {
    const text = "température 25 °C — naïve 日本語 🎉 ok\nsecond line é\n";
    const bytes = Buffer.from(text, "utf8");
    for (let at = 0; at <= bytes.length; at++) {
      expect(linesOf([bytes.subarray(0, at), bytes.subarray(at)]), `cut at byte ${at}`).to.deep.equal(["température 25 °C — naïve 日本語 🎉 ok", "second line é"]);
    }
  });

  it("fed one byte at a time, a four-byte emoji and a line without a final newline arrive whole", () => {
    const bytes = Buffer.from("🎉\nend 日本", "utf8");
    expect(linesOf([...bytes].map((byte) => Buffer.from([byte])))).to.deep.equal(["🎉", "end 日本"]);
  });

  it("a stream that ends inside a character shows U+FFFD for it at end(), not nothing", () => {
    const bytes = Buffer.from("x€", "utf8");
    expect(linesOf([bytes.subarray(0, bytes.length - 1)])).to.deep.equal(["x\ufffd"]);
  });
});
