// cli/string-width.ts (the string-width of mnt's own bundle) gives exactly what string-width gives
// for every character of its one-column fast path, alone and in a line, and for text outside it.
import { expect } from "chai";
import realStringWidth from "string-width";
import stringWidth, { ONE_COLUMN } from "../../cli/string-width.ts";

describe("cli/string-width: the ASCII-first stand-in for string-width", () => {
  it("every character of the fast path is one column for string-width, alone and in a line", () => {
    const fast: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      const char = String.fromCharCode(code);
      if (ONE_COLUMN.test(char)) fast.push(char);
    }
    expect(fast.length).to.be.greaterThan(1000);
    const wrong = fast.filter((char) => realStringWidth(char) !== 1);
    expect(wrong.map((char) => char.codePointAt(0)!.toString(16))).to.deep.equal([]);
    const line = fast.join("");
    expect(stringWidth(line)).to.equal(realStringWidth(line));
  });

  it("outside the fast path, in ANSI colour, or with ambiguousIsNarrow false: the real string-width", () => {
    for (const text of ["estimate π → done…", "\x1b[31mred\x1b[39m text", "日本語", "a\u0301", "👍 ok", "✔ done", "tab\there", "soft\u00adhyphen", ""]) {
      expect(stringWidth(text), JSON.stringify(text)).to.equal(realStringWidth(text));
      expect(stringWidth(text, { ambiguousIsNarrow: false }), JSON.stringify(text)).to.equal(realStringWidth(text, { ambiguousIsNarrow: false }));
      expect(stringWidth(text, { countAnsiEscapeCodes: true }), JSON.stringify(text)).to.equal(realStringWidth(text, { countAnsiEscapeCodes: true }));
    }
  });
});
