// fork-raytrace peer's child: renders argv[2] warm-up tiles, says ready, then renders the tile
// indices it is sent, one IPC message per tile. Exits when the parent disconnects.
import { renderTile, TILES } from "../programs/raytrace-scene.ts";

for (let i = 0; i < Number(process.argv[2] ?? 0); i += 1) renderTile(i % TILES);
process.on("message", (indices: number[]) => {
  for (const index of indices) process.send!({ kind: "tile", index, data: renderTile(index) });
});
process.on("disconnect", () => process.exit(0));
process.send!({ kind: "ready" });
