// `mnt exec` benchmark (bench/exec.ts): a CPU-bound program, the ray tracer's 660 tiles as worker
// ops (issued at once, as a user would), timed inside main from the first issue to the last
// result, after a warm-up on every slave. The render function is the one the bare forked peer uses
// (raytrace-scene.ts). argv: slaves to wait for.
import { defineProgram } from "marionette-mnt";
import { checksum, renderTile, TILES } from "./raytrace-scene.ts";
import { report, slavesUp } from "./slaves-up.ts";

export default defineProgram({
  init: () => ({}),
  worker: {
    tile: (_ctx, index: number) => renderTile(index),
  },
  async main(m, argv) {
    const slaves = Number(argv[0] ?? 2);
    await slavesUp(m, slaves);
    // Warm-up: the same tiles the peer's children render before they say ready (JIT, pipes).
    await Promise.all(Array.from({ length: 8 * slaves }, (_, i) => m.worker.tile(i % TILES)));
    const started = performance.now();
    const tiles = await Promise.all(Array.from({ length: TILES }, (_, i) => m.worker.tile(i)));
    const ms = performance.now() - started;
    report({ ms, tiles: tiles.length, checksum: tiles.reduce((sum, tile) => checksum(tile, sum), 0) });
  },
});
