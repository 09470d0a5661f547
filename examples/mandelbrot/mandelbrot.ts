// Renders the Mandelbrot set as a grid of tiles, one worker op each. The palette is shared data:
// the master sets it once and each host fetches it once, instead of every op carrying a copy.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PNG } from "pngjs";
import { defineProgram } from "marionette-mnt";
import { blit, makePalette, makeTiles, pixelHash, renderTile, type Tile } from "./render.ts";

export default defineProgram({
  init: () => ({}),
  worker: {
    async renderTile(_ctx, tile: Tile, op) {
      const palette = await op.shared.get<Uint8Array>("palette");
      return renderTile(tile, palette);
    },
  },
  async main(m, argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        out: { type: "string", default: "mandelbrot.png" },
        width: { type: "string", default: "800" },
        height: { type: "string", default: "600" },
        "max-iter": { type: "string", default: "500" },
        grid: { type: "string", default: "8" }, // 8 × 8 = 64 tiles
      },
    });
    const [width, height, maxIter, grid] = [values.width, values.height, values["max-iter"], values.grid].map(Number) as [number, number, number, number];
    if (![width, height, maxIter, grid].every((v) => Number.isInteger(v) && v > 0)) {
      console.error("mandelbrot: --width, --height, --max-iter and --grid must be positive integers");
      return 2;
    }

    m.shared.set("palette", makePalette());
    const png = new PNG({ width, height });
    // Tiles arrive in completion order; each lands at its own offset, so order does not matter.
    for await (const { value } of m.map("renderTile", makeTiles(width, height, maxIter, grid))) {
      blit(png.data, width, value);
    }

    writeFileSync(values.out, PNG.sync.write(png));
    console.log(`wrote ${values.out} ${width}x${height} sha256=${pixelHash(png.data)}`);
  },
});
