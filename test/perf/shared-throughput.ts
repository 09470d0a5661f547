// INTERNAL measurement, not a benchmark of record (those are bench/, through `mnt exec`): shared-data
// bytes per second from the master into local slaves, through Runtime directly (as bench/marionette.ts
// does), next to the raw pipe peer in the same run. Every slave reads the value in one op.
//   node --import=tsx test/perf/shared-throughput.ts [MiB=256] [slots=2] [rounds=3]
import { runSharedBytes } from "../../bench/marionette.ts";
import { runRawPipeBytesPeer } from "../../bench/peers/raw-pipe-bytes.ts";

const mib = Number(process.argv[2] ?? 256);
const slots = Number(process.argv[3] ?? 2);
const rounds = Number(process.argv[4] ?? 3);
const bytes = mib * 1024 * 1024;

const ours: number[] = [];
const pipe: number[] = [];
for (let round = 0; round < rounds; round++) {
  ours.push((await runSharedBytes({ bytes, slots })).mibPerSec);
  pipe.push((await runRawPipeBytesPeer({ bytes, sink: "node" })).mibPerSec);
  process.stderr.write(`[internal] round ${round + 1}: shared ${ours.at(-1)!.toFixed(0)} MiB/s, raw pipe ${pipe.at(-1)!.toFixed(0)} MiB/s\n`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  JSON.stringify({ internal: true, mib, slots, rounds, sharedMiBps: ours.map(Math.round), rawPipeMiBps: pipe.map(Math.round), ratio: +(median(ours) / median(pipe)).toFixed(2) }),
);
