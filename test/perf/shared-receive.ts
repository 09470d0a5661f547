// INTERNAL measurement of the shared-data receive path alone (the agent and its slaves), not a
// benchmark of record: a minimal master in this process, with the value encoded and hashed before
// the clock starts (the master's own encode and sha256 are not measured), streams it as the runtime
// does (FrameChannel.sendStreaming, 256 KiB frames) to one real local agent, whose 2 slaves each
// read it in an op. The clock stops at the last slave's answer. Next to it, in the same run, the raw
// pipe peer of bench/ (a Node.js child counting bytes). Rounds alternate the two. Also the CPU time
// the agent and the slaves spent (user + system, from /proc), which a busy machine disturbs less than
// the wall clock.
//   npm run build && node --import=tsx test/perf/shared-receive.ts [MiB=256] [slots=2] [rounds=5]
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runRawPipeBytesPeer } from "../../bench/peers/raw-pipe-bytes.ts";
import { startLocalAgent } from "../../core/connections/local.ts";
import { FrameChannel, type IncomingFrame } from "../../core/protocol/channel.ts";
import { decode, encode } from "../../core/protocol/codec.ts";
import { FLAG_ERROR, FrameType } from "../../core/protocol/frame.ts";
import type { Config, SharedVersion, SlaveReady } from "../../core/protocol/messages.ts";
import { decodeResult, encodeOpFrame } from "../../core/protocol/op-frames.ts";
import { bundleProgram } from "../../toolchain/build/bundle-program.ts";
import { agentBundle, packageRoot } from "../../toolchain/own-files.ts";

const MiB = 1024 * 1024;
const mib = Number(process.argv[2] ?? 256);
const slots = Number(process.argv[3] ?? 2);
const rounds = Number(process.argv[4] ?? 5);
const SHARED_CHUNK_BYTES = 256 * 1024; // as core/runtime sends shared data

/** CPU milliseconds (user + system) a process has used so far. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

async function sharedRound(programFile: string, value: Uint8Array): Promise<{ mibPerSec: number; cpuMs: number }> {
  const encoded = encode(value);
  const hash = createHash("sha256").update(encoded).digest("hex");
  const agent = startLocalAgent(agentBundle);
  const channel = new FrameChannel(agent.transport, { peer: "agent" });
  const ready = new Set<number>();
  const pids: number[] = [agent.pid!];
  const results = new Map<number, number>();
  let names: string[] = [];
  let wake = () => {};
  const waitUntil = (done: () => boolean) => new Promise<void>((resolve) => (wake = () => done() && resolve()));
  channel.onFrame((frame: IncomingFrame) => {
    switch (frame.type) {
      case FrameType.Hello: {
        const config: Config = { program: programFile, heartbeatMs: 1000, masterTimeoutMs: 60_000, slaveHeartbeatMs: 500, slaveTimeoutMs: 60_000 };
        channel.send(FrameType.Config, 0, 0, encode(config));
        for (let s = 1; s <= slots; s++) channel.send(FrameType.Spawn, 0, s, encode({ slot: s }));
        return;
      }
      case FrameType.SlaveReady:
        if (frame.flags & FLAG_ERROR) throw new Error(`slave ${frame.slave} failed to load: ${JSON.stringify(decode(frame.payload))}`);
        names = (decode(frame.payload) as SlaveReady).worker;
        pids.push((decode(frame.payload) as SlaveReady).pid);
        ready.add(frame.slave);
        return wake();
      case FrameType.SharedFetch:
        channel.sendStreaming(FrameType.SharedData, 0, frame.id, encoded, 0, SHARED_CHUNK_BYTES).catch(() => {});
        return;
      case FrameType.Result: {
        const { body } = decodeResult(frame.payload);
        if (frame.flags & FLAG_ERROR) throw new Error(`slave ${frame.slave}: ${JSON.stringify(decode(body))}`);
        results.set(frame.slave, decode(body) as number);
        return wake();
      }
      default:
        return;
    }
  });
  await waitUntil(() => ready.size === slots);
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const started = process.hrtime.bigint();
  const version: SharedVersion = { key: "blob", epoch: 1, hash, size: encoded.length };
  for (const slave of ready) {
    channel.send(FrameType.SharedVersion, slave, 0, encode(version));
    channel.sendRaw(encodeOpFrame(slave, slave, { nameIndex: names.indexOf("readShared"), epoch: 1, ctxVersion: 0, attempt: 0 }, encode("blob")));
  }
  channel.flush();
  await waitUntil(() => results.size === slots);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - cpuBefore;
  for (const [slave, length] of results) if (length !== value.length) throw new Error(`slave ${slave} read ${length} bytes, not ${value.length}`);
  channel.close();
  await agent.close();
  return { mibPerSec: value.length / MiB / seconds, cpuMs: cpu };
}

const bundle = await bundleProgram(path.join(packageRoot, "bench", "programs", "noop.ts"), path.join(os.tmpdir(), "mnt-bench"));
const value = new Uint8Array(mib * MiB);
for (let i = 0; i < value.length; i += 4096) value[i] = i & 0xff;
const ours: number[] = [];
const cpu: number[] = [];
const pipe: number[] = [];
for (let round = 0; round < rounds; round++) {
  const result = await sharedRound(bundle.file, value);
  ours.push(result.mibPerSec);
  cpu.push(result.cpuMs);
  pipe.push((await runRawPipeBytesPeer({ bytes: mib * MiB, sink: "node" })).mibPerSec);
  process.stderr.write(`[internal] round ${round + 1}: agent + ${slots} slaves ${ours.at(-1)!.toFixed(0)} MiB/s (${result.cpuMs} ms CPU), raw pipe ${pipe.at(-1)!.toFixed(0)} MiB/s\n`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  JSON.stringify({ internal: true, mib, slots, rounds, receiveMiBps: ours.map(Math.round), cpuMs: cpu, rawPipeMiBps: pipe.map(Math.round), medianRatio: +(median(ours) / median(pipe)).toFixed(2) }),
);
