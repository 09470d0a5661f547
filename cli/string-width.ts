// The `string-width` of mnt's own bundle (toolchain/build-self.mjs aliases the package to this
// file). yargs and cliui measure every help line with it, and yargs renders the help of the
// command being run even when nobody asks for it. string-width's module compiles Unicode property
// regexes (RGI_Emoji with the `v` flag) and emoji-regex when loaded: 40–65 ms of every mnt
// command's start-up, and more when the first non-ASCII line is measured. Text made only of
// characters one column wide in every case (printable ASCII, Latin-1, Greek, Cyrillic letters,
// punctuation, arrows, math operators, box drawing: mnt's own text, π and → included) has the width
// of its length, which is what string-width says for each of them (test/cli/string-width.test.ts
// checks every one); anything else is measured by the real string-width, loaded on first use.
import stripAnsi from "strip-ansi";

type StringWidth = (text: string, options?: { ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean }) => number;

let full: StringWidth | null = null;

/**
 * Characters string-width counts as one column, alone or next to each other (no marks, no format
 * characters, no emoji presentation): East Asian Width narrow, neutral or ambiguous (ambiguous is
 * narrow unless `ambiguousIsNarrow: false`).
 */
export const ONE_COLUMN = /^[\x20-\x7e\xa0-\xac\xae-\xff\u0370-\u0377\u037a-\u037f\u0384-\u038a\u038c\u038e-\u03a1\u03a3-\u03ff\u0400-\u0482\u048a-\u04ff\u2010-\u2027\u2030-\u205e\u2190-\u21ff\u2200-\u22ff\u2500-\u257f]*$/;

export default function stringWidth(text: string, options?: { ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean }): number {
  if (typeof text !== "string" || text.length === 0) return 0;
  const visible = options?.countAnsiEscapeCodes ? text : stripAnsi(text);
  if (options?.ambiguousIsNarrow !== false && ONE_COLUMN.test(visible)) return visible.length;
  // A require() of an ES module in the bundle: esbuild evaluates it at this call, not at start-up.
  full ??= (require("../node_modules/string-width/index.js") as { default: StringWidth }).default;
  return full(text, options);
}
