// Peer for "shared-data bytes per second into the slaves": raw pipe throughput into one child.
//
// The child is started first and says "ready" (so its start-up is not timed); then the parent
// writes `bytes` in `chunkBytes` chunks, honouring backpressure, and closes stdin. The clock stops
// when the child reports how many bytes it read, which must equal what was written. sink "node"
// is a Node.js child that counts and discards (what a slave is); "cat" is `cat > /dev/null`, the
// bare pipe without a JavaScript reader (its clock stops at its exit).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ByteResult } from "../stats.ts";
import { exitError, exited, stopChild, track } from "./children.ts";

export interface RawPipeBytesPeerOptions {
  /** Bytes to push; default 256 MiB. */
  bytes?: number;
  /** Bytes per write; default 1 MiB. */
  chunkBytes?: number;
  sink?: "node" | "cat";
}

const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL("./raw-pipe-bytes-child.mjs", import.meta.url));

export async function runRawPipeBytesPeer(options: RawPipeBytesPeerOptions = {}): Promise<ByteResult> {
  const chunkBytes = options.chunkBytes ?? MiB;
  const bytes = options.bytes ?? 256 * MiB;
  const sink = options.sink ?? "node";
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`options.chunkBytes must be a positive integer, got ${chunkBytes}`);
  if (!Number.isSafeInteger(bytes) || bytes < chunkBytes || bytes % chunkBytes !== 0) {
    throw new RangeError(`options.bytes must be a positive multiple of chunkBytes (${chunkBytes}), got ${bytes}`);
  }
  const child = track(
    sink === "node"
      ? spawn(process.execPath, [CHILD], { stdio: ["pipe", "pipe", "inherit"] })
      : spawn("sh", ["-c", "exec cat > /dev/null"], { stdio: ["pipe", "pipe", "inherit"] }),
  );
  // Aborts the waits for 'spawn' and 'drain' if the child goes away.
  const died = new AbortController();
  child.once("exit", (code, signal) => died.abort(exitError(`raw pipe bytes child (${sink})`, code, signal)));
  // EPIPE after an early exit: the abort above reports it.
  child.stdin.on("error", () => {});
  try {
    await once(child, "spawn", { signal: died.signal });
    const lines = sink === "node" ? createInterface({ input: child.stdout })[Symbol.asyncIterator]() : null;
    if (lines) await expectLine(lines, (line) => line === "ready", "ready");

    const chunk = Buffer.alloc(chunkBytes);
    for (let i = 0; i < chunk.length; i += 1) chunk[i] = (i * 131) & 0xff;
    const start = process.hrtime.bigint();
    for (let sent = 0; sent < bytes; sent += chunkBytes) {
      if (!child.stdin.write(chunk)) await once(child.stdin, "drain", { signal: died.signal });
    }
    child.stdin.end();
    if (lines) await expectLine(lines, (line) => line === String(bytes), `${bytes}`);
    else await exited(child);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (sink === "cat" && child.exitCode !== 0) throw exitError("cat > /dev/null", child.exitCode, child.signalCode);
    return { name: `raw pipe bytes (${chunkBytes / MiB} MiB chunks → ${sink})`, mibPerSec: bytes / MiB / seconds, bytes };
  } finally {
    await stopChild(child, () => child.stdin.end());
  }
}

/** The child's next stdout line must satisfy `ok`; its stdout ending first is an error. */
async function expectLine(lines: AsyncIterator<string>, ok: (line: string) => boolean, expected: string): Promise<void> {
  const next = await lines.next();
  if (next.done) throw new Error(`raw pipe bytes child: stdout ended while waiting for "${expected}"`);
  if (!ok(next.value)) throw new Error(`raw pipe bytes child: expected "${expected}", got "${next.value}"`);
}
