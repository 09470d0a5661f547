// Peer of the ray-tracer benchmark: N bare forked processes render the same 660 tiles with the
// same function (bench/programs/raytrace-scene.ts), split statically (child k takes tiles k, k+N …)
// and each tile sent back over Node's IPC channel as it is done. Each child first renders the
// warm-up tiles the `mnt exec` program renders, then says ready; the clock runs from "go" to the
// last tile received.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { checksum, TILES } from "../programs/raytrace-scene.ts";
import { exitError, stopChild, track } from "./children.ts";

const CHILD = fileURLToPath(new URL("./fork-raytrace-child.ts", import.meta.url));

export interface RaytraceResult {
  ms: number;
  checksum: number;
}

type Message = { kind: "ready" } | { kind: "tile"; index: number; data: Uint8Array };

export async function runForkRaytracePeer(processes: number): Promise<RaytraceResult> {
  const children: ChildProcess[] = [];
  const tiles: Uint8Array[] = new Array(TILES);
  let received = 0;
  let done: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  try {
    const ready: Array<Promise<void>> = [];
    for (let k = 0; k < processes; k += 1) {
      // The child is TypeScript importing the scene module: tsx loads it (before the clock starts).
      const child = track(fork(CHILD, [String(8 * processes)], { execArgv: ["--import=tsx"], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] }));
      children.push(child);
      child.once("exit", (code, signal) => failed(exitError("ray-tracer child", code, signal)));
      ready.push(
        new Promise<void>((resolve) => {
          child.on("message", (message: Message) => {
            if (message.kind === "ready") return resolve();
            tiles[message.index] = message.data;
            received += 1;
            if (received === TILES) done();
          });
        }),
      );
    }
    await Promise.race([Promise.all(ready), finished]);
    const started = performance.now();
    children.forEach((child, k) => {
      const mine: number[] = [];
      for (let i = k; i < TILES; i += processes) mine.push(i);
      child.send(mine);
    });
    await finished;
    const ms = performance.now() - started;
    return { ms, checksum: tiles.reduce((sum, tile) => checksum(tile, sum), 0) };
  } finally {
    await Promise.all(children.map((child) => stopChild(child, () => child.disconnect())));
  }
}
