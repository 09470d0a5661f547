// The `string-width` of mnt's own bundle (toolchain/build-self.mjs aliases the package to this
// file). yargs and cliui measure every help line with it, and yargs renders the help of the
// command being run even when nobody asks for it. string-width's module compiles Unicode property
// regexes (RGI_Emoji with the `v` flag) and emoji-regex when loaded: 40–65 ms of every mnt
// command's start-up. Printable ASCII, which is all of mnt's own text, has the width of its length;
// anything else is measured by the real string-width, loaded (and its regexes compiled) on first use.
import stripAnsi from "strip-ansi";

type StringWidth = (text: string, options?: { ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean }) => number;

let full: StringWidth | null = null;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export default function stringWidth(text: string, options?: { ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean }): number {
  if (typeof text !== "string" || text.length === 0) return 0;
  const visible = options?.countAnsiEscapeCodes ? text : stripAnsi(text);
  if (PRINTABLE_ASCII.test(visible)) return visible.length;
  // A require() of an ES module in the bundle: esbuild evaluates it at this call, not at start-up.
  full ??= (require("../node_modules/string-width/index.js") as { default: StringWidth }).default;
  return full(text, options);
}
