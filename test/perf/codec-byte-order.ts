// Internal micro-benchmark (issue 11): the codec's own cost for small values and typed arrays, in
// one process. On this little-endian machine it shows the byte-order change costs nothing (run it
// from a worktree of the commit before, and from this one, interleaved); bundled with esbuild and run
// under qemu-s390x it shows what the swap costs a big-endian host (Float64Array against a Uint8Array
// of the same bytes, which has no order).
//
//   node --import=tsx test/perf/codec-byte-order.ts [MiB=64] [reps=7]
//   npx esbuild test/perf/codec-byte-order.ts --bundle --platform=node --format=cjs --target=node18 --outfile=/tmp/cbo.cjs
//   qemu-s390x-static -L /usr/s390x-linux-gnu <s390x node> /tmp/cbo.cjs 16 5
// Prints one JSON line of medians.
import os from "node:os";
import { allocateForDecode, decode, decodeInPlace, encode } from "../../core/protocol/codec.ts";

const MIB = Number(process.argv[2] ?? 64);
const REPS = Number(process.argv[3] ?? 7);
const SMALL_OPS = Math.max(10_000, Math.round(200_000 * (MIB / 64)));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Median ms of CPU (user + system of this process) over `reps` runs of `run`, after one warm-up run.
 * CPU time, not wall time: this machine is shared, and a run that waits for a core is not slower code.
 */
function time(run: () => void, reps = REPS): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  return median(times);
}

const bytes = MIB * 1024 * 1024;
const floats = new Float64Array(bytes / 8).map((_, i) => i * 0.5 - 3);
const octets = new Uint8Array(bytes).map((_, i) => i);
const smallInput = { tile: 17, scale: 1.5, name: "noop", flags: [true, false] };
const smallArrays = new Float64Array(128).map((_, i) => i / 3);

function largeFigures(array: Float64Array | Uint8Array): Record<string, number> {
  const wire = encode(array);
  const placed = allocateForDecode(wire.length, wire[0]!);
  const mibps = (ms: number) => Math.round((MIB / ms) * 1000);
  return {
    encodeMiBps: mibps(time(() => void encode(array))),
    decodeMiBps: mibps(time(() => void decode(wire))),
    // A fresh copy of the received bytes each time, as a slave's shared-data buffer is one per value (a big-endian host swaps it in place).
    decodeInPlaceMs: Number(time(() => {
      placed.set(wire);
      decodeInPlace(placed);
    }).toFixed(2)),
    copyInMs: Number(time(() => placed.set(wire)).toFixed(2)),
  };
}

const smallEncoded = encode(smallInput);
const arrayEncoded = encode(smallArrays);
const report = {
  arch: process.arch,
  endianness: os.endianness(),
  MiB: MIB,
  float64: largeFigures(floats),
  uint8: largeFigures(octets),
  smallEncodeNs: Math.round((time(() => { for (let i = 0; i < SMALL_OPS; i++) encode(smallInput); }) * 1e6) / SMALL_OPS),
  smallDecodeNs: Math.round((time(() => { for (let i = 0; i < SMALL_OPS; i++) decode(smallEncoded); }) * 1e6) / SMALL_OPS),
  float64x128EncodeNs: Math.round((time(() => { for (let i = 0; i < SMALL_OPS; i++) encode(smallArrays); }) * 1e6) / SMALL_OPS),
  float64x128DecodeNs: Math.round((time(() => { for (let i = 0; i < SMALL_OPS; i++) decode(arrayEncoded); }) * 1e6) / SMALL_OPS),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
