// Runs every peer benchmark once and prints a table: node --import=tsx bench/peers/try.ts
import { formatMiBps, formatOps, formatRatio, formatTable, formatUs, type ByteResult, type PeerResult } from "../stats.ts";
import { runForkIpcPeer } from "./fork-ipc.ts";
import { runPiscinaPeer } from "./piscina.ts";
import { runRawPipeBytesPeer } from "./raw-pipe-bytes.ts";
import { runRawPipeEchoPeer } from "./raw-pipe-echo.ts";

const started = process.hrtime.bigint();
const elapsed = (): string => `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`;

const rpc: PeerResult[] = [];
for (const run of [runRawPipeEchoPeer, runPiscinaPeer, runForkIpcPeer]) {
  const result = await run();
  process.stderr.write(`[${elapsed()}] ${result.name}: done\n`);
  rpc.push(result);
}
const bytes: ByteResult[] = [];
for (const sink of ["node", "cat"] as const) {
  const result = await runRawPipeBytesPeer({ sink });
  process.stderr.write(`[${elapsed()}] ${result.name}: done\n`);
  bytes.push(result);
}

const ceiling = rpc[0]!;
console.log(
  formatTable([
    ["peer", "ops/s", "vs echo", "p50", "p99", "ops"],
    ...rpc.map((r) => [r.name, formatOps(r.opsPerSec), formatRatio(r.opsPerSec, ceiling.opsPerSec), formatUs(r.p50Us), formatUs(r.p99Us), formatOps(r.ops)]),
  ]),
);
console.log();
console.log(
  formatTable([
    ["peer", "throughput", "MiB"],
    ...bytes.map((r) => [r.name, formatMiBps(r.mibPerSec), String(r.bytes / 1024 / 1024)]),
  ]),
);
console.log(`\ntotal ${elapsed()}`);
