// A 3×5 pixel font for the labels of rendered traces (no font files, no native canvas): capitals,
// digits and the punctuation trace labels use; lower case is drawn as upper case, anything else
// as "?". Each glyph is 5 rows of 3 columns, "#" for ink.
const GLYPHS: Record<string, string> = {
  A: ".#. #.# ### #.# #.#", B: "##. #.# ##. #.# ##.", C: ".## #.. #.. #.. .##", D: "##. #.# #.# #.# ##.",
  E: "### #.. ##. #.. ###", F: "### #.. ##. #.. #..", G: ".## #.. #.# #.# .##", H: "#.# #.# ### #.# #.#",
  I: "### .#. .#. .#. ###", J: "..# ..# ..# #.# .#.", K: "#.# #.# ##. #.# #.#", L: "#.. #.. #.. #.. ###",
  M: "#.# ### ### #.# #.#", N: "##. #.# #.# #.# #.#", O: ".#. #.# #.# #.# .#.", P: "##. #.# ##. #.. #..",
  Q: ".#. #.# #.# ### .##", R: "##. #.# ##. #.# #.#", S: ".## #.. .#. ..# ##.", T: "### .#. .#. .#. .#.",
  U: "#.# #.# #.# #.# ###", V: "#.# #.# #.# #.# .#.", W: "#.# #.# ### ### #.#", X: "#.# #.# .#. #.# #.#",
  Y: "#.# #.# .#. .#. .#.", Z: "### ..# .#. #.. ###", "0": "### #.# #.# #.# ###", "1": ".#. ##. .#. .#. ###",
  "2": "##. ..# .#. #.. ###", "3": "##. ..# .#. ..# ##.", "4": "#.# #.# ### ..# ..#", "5": "### #.. ##. ..# ##.",
  "6": ".## #.. ### #.# ###", "7": "### ..# .#. .#. .#.", "8": "### #.# ### #.# ###", "9": "### #.# ### ..# ##.",
  ' ': "... ... ... ... ...", ':': "... .#. ... .#. ...", '.': "... ... ... ... .#.", ',': "... ... ... .#. #..",
  '-': "... ... ### ... ...", '_': "... ... ... ... ###", '/': "..# ..# .#. #.. #..", '(': ".#. #.. #.. #.. .#.",
  ')': ".#. ..# ..# ..# .#.", '#': "#.# ### #.# ### #.#", '=': "... ### ... ### ...", '+': "... .#. ### .#. ...",
  '%': "#.# ..# .#. #.. #.#", '?': "##. ..# .#. ... .#.", '<': "..# .#. #.. .#. ..#", '>': "#.. .#. ..# .#. #..",
  '[': "##. #.. #.. #.. ##.", ']': ".## ..# ..# ..# .##", "'": ".#. .#. ... ... ...", '"': "#.# #.# ... ... ...",
  '!': ".#. .#. .#. ... .#.", '*': "#.# .#. #.# ... ...", '|': ".#. .#. .#. .#. .#.", '~': "... ... #.# ... ...",
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;
/** Columns from one glyph's start to the next one's. */
export const GLYPH_ADVANCE = 4;

/** The glyph of a character: 5 rows of 3 cells, row by row, true for ink. */
export function glyph(char: string): boolean[] {
  const key = char === "µ" ? "U" : char === "×" ? "X" : char === "…" ? "~" : char.toUpperCase();
  return [...(GLYPHS[key] ?? GLYPHS["?"]!).replaceAll(" ", "")].map((cell) => cell === "#");
}

/** Width in pixels of `text` at `scale`. */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - 1) * scale;
}
