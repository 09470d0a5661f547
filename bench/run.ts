// `npm run bench`: Marionette and its peers in one run, with ratios. Results go to docs/BENCHMARKS.md.
import { formatMiBps, formatOps, formatRatio, formatTable, formatUs, type ByteResult, type PeerResult } from "./stats.ts";
import { runForkIpcPeer } from "./peers/fork-ipc.ts";
import { runPiscinaPeer } from "./peers/piscina.ts";
import { runRawPipeBytesPeer } from "./peers/raw-pipe-bytes.ts";
import { runRawPipeEchoPeer } from "./peers/raw-pipe-echo.ts";
import { runMarionettePeer, runSharedBytes } from "./marionette.ts";

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const rpc: PeerResult[] = [];
for (const run of [runMarionettePeer, runRawPipeEchoPeer, runPiscinaPeer, () => runPiscinaPeer({ concurrentTasksPerWorker: 64 }), runForkIpcPeer]) {
  const result = await run();
  log(`${result.name}: ${formatOps(result.opsPerSec)} ops/s`);
  rpc.push(result);
}
const bytes: ByteResult[] = [];
for (const run of [() => runSharedBytes(), () => runRawPipeBytesPeer({ sink: "node" })]) {
  const result = await run();
  log(`${result.name}: ${formatMiBps(result.mibPerSec)}`);
  bytes.push(result);
}

const ours = rpc[0]!;
console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log(
  formatTable([
    ["target", "ops/s", "marionette ÷ target", "p50", "p99"],
    ...rpc.map((r) => [r.name, formatOps(r.opsPerSec), formatRatio(ours.opsPerSec, r.opsPerSec), formatUs(r.p50Us), formatUs(r.p99Us)]),
  ]),
);
console.log();
console.log(
  formatTable([
    ["target", "throughput", "marionette ÷ target"],
    ...bytes.map((r) => [r.name, formatMiBps(r.mibPerSec), formatRatio(bytes[0]!.mibPerSec, r.mibPerSec)]),
  ]),
);
