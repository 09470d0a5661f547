// The pure part of the Mandelbrot example, shared by the worker op and by tests: one tile
// renderer, the sequential reference built from it, the palette and the pixel hash.
// Only +, −, × on doubles: IEEE 754 makes them bit-identical on every host, whereas Math.log and
// friends may differ between platforms, which would break "same hash for any slave count".
import { createHash } from "node:crypto";

export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
  /** The whole image's size and depth travel with each tile so the op needs no context. */
  imageWidth: number;
  imageHeight: number;
  maxIter: number;
}

export interface TileResult {
  x: number;
  y: number;
  width: number;
  height: number;
  /** RGBA, row-major, width × height × 4 bytes. */
  pixels: Uint8Array;
}

/** 256 RGB entries: a smooth dark-blue → white → orange ramp from polynomials (no Math.* calls). */
export function makePalette(): Uint8Array {
  const p = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    p[i * 3] = Math.round(255 * 9 * (1 - t) * t * t * t);
    p[i * 3 + 1] = Math.round(255 * 15 * (1 - t) * (1 - t) * t * t);
    p[i * 3 + 2] = Math.round(255 * 8.5 * (1 - t) * (1 - t) * (1 - t) * t);
  }
  return p;
}

/** Renders one tile. Pixel coordinates are absolute, so a tile's pixels do not depend on the tiling. */
export function renderTile(tile: Tile, palette: Uint8Array): TileResult {
  const { x, y, width, height, imageWidth, imageHeight, maxIter } = tile;
  // View: real axis −2.5…1.0 across the width, imaginary axis centred, square pixels.
  const step = 3.5 / imageWidth;
  const pixels = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) {
    const ci = (y + row + 0.5 - imageHeight / 2) * step;
    for (let col = 0; col < width; col++) {
      const cr = -2.5 + (x + col + 0.5) * step;
      let zr = 0;
      let zi = 0;
      let n = 0;
      while (n < maxIter && zr * zr + zi * zi <= 4) {
        const t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
      }
      const o = (row * width + col) * 4;
      if (n < maxIter) {
        const c = (n % 256) * 3;
        pixels[o] = palette[c]!;
        pixels[o + 1] = palette[c + 1]!;
        pixels[o + 2] = palette[c + 2]!;
      } // points inside the set stay black
      pixels[o + 3] = 255;
    }
  }
  return { x, y, width, height, pixels };
}

/** Splits the image into a grid of tiles (edge tiles take the remainder). */
export function makeTiles(imageWidth: number, imageHeight: number, maxIter: number, grid: number): Tile[] {
  const tw = Math.ceil(imageWidth / grid);
  const th = Math.ceil(imageHeight / grid);
  const tiles: Tile[] = [];
  for (let y = 0; y < imageHeight; y += th) {
    for (let x = 0; x < imageWidth; x += tw) {
      tiles.push({ x, y, width: Math.min(tw, imageWidth - x), height: Math.min(th, imageHeight - y), imageWidth, imageHeight, maxIter });
    }
  }
  return tiles;
}

/** Copies a tile's rows into the full RGBA image buffer. */
export function blit(image: Uint8Array, imageWidth: number, tile: TileResult): void {
  const rowBytes = tile.width * 4;
  for (let row = 0; row < tile.height; row++) {
    const src = row * rowBytes;
    image.set(tile.pixels.subarray(src, src + rowBytes), ((tile.y + row) * imageWidth + tile.x) * 4);
  }
}

/** The reference: the whole image as one tile, on this thread. */
export function renderSequential(width: number, height: number, maxIter: number, palette: Uint8Array): Uint8Array {
  return renderTile({ x: 0, y: 0, width, height, imageWidth: width, imageHeight: height, maxIter }, palette).pixels;
}

/** First 16 hex digits of the SHA-256 of an RGBA buffer: what the program prints and tests compare. */
export function pixelHash(rgba: Uint8Array): string {
  return createHash("sha256").update(rgba).digest("hex").slice(0, 16);
}
