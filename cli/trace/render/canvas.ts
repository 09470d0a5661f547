// The few drawing operations a rendered trace needs, on an RGBA buffer that pngjs encodes:
// filled rectangles, lines along the axes, and text in the built-in bitmap font.
import { PNG } from "pngjs";
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "./bitmap-font.ts";

export type Rgb = readonly [number, number, number];

export class Canvas {
  private readonly png: PNG;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb,
  ) {
    this.png = new PNG({ width, height });
    this.fill(0, 0, width, height, background);
  }

  /** A rectangle, clipped to the canvas; fractional edges are rounded (at least 1 pixel wide and high). */
  fill(x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.max(x0 + 1, Math.round(x + w)));
    const y1 = Math.min(this.height, Math.max(y0 + 1, Math.round(y + h)));
    const data = this.png.data;
    for (let py = y0; py < y1; py++) {
      let at = (py * this.width + x0) * 4;
      for (let px = x0; px < x1; px++, at += 4) {
        data[at] = r;
        data[at + 1] = g;
        data[at + 2] = b;
        data[at + 3] = 255;
      }
    }
  }

  /** Text whose top-left corner is (x, y); each font pixel is `scale`×`scale`. */
  text(x: number, y: number, text: string, color: Rgb, scale = 2): void {
    let left = x;
    for (const char of text) {
      const cells = glyph(char);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) if (cells[row * GLYPH_WIDTH + col]) this.fill(left + col * scale, y + row * scale, scale, scale, color);
      }
      left += GLYPH_ADVANCE * scale;
    }
  }

  toPng(): Buffer {
    return PNG.sync.write(this.png);
  }
}
