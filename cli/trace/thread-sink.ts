// The master's side of the writer thread: a TimelineSink that only encodes records into batches
// (record-batch.ts) and hands each full batch (or every 100 ms) to the thread that formats and
// writes the files (writer-thread.ts). Measured on the no-op benchmark, formatting both files on
// the master's thread cost it ~2.5 µs per op, a quarter of its time per op; encoding costs ~0.1 µs.
//
// Memory stays bounded: the master waits (Atomics.wait) while more than MAX_AHEAD batches are
// unwritten. At the end it waits for the thread to end both files, synchronously, so it works
// from an 'exit' handler too.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ContextRun, Instant, OpRun, RunInfo, SettledOp, TimelineSink } from "../../core/trace/timeline-sink.ts";
import type { OutputFile } from "./output-file.ts";
import { BatchEncoder } from "./record-batch.ts";
import type { WriterMessage, WriterThreadData } from "./writer-thread.ts";

const MAX_AHEAD = 16;
const POST_EVERY_MS = 100;
/** Longest wait for the thread (one batch, or the end) before tracing is given up. */
const STALL_MS = 10_000;

/**
 * The writer thread: beside this chunk in dist/ (the build's entry "trace-writer"); or, running
 * from the sources under tsx (tests, benchmarks of parts), the source through tsx's loader, which
 * a worker does not inherit from --import on Node.js 20.
 */
function startWriterThread(workerData: WriterThreadData): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./trace-writer.js", import.meta.url), { workerData });
  const tsx = JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href);
  const source = JSON.stringify(new URL("./writer-thread.ts", import.meta.url).href);
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${source}); })`, { eval: true, workerData });
}

export class ThreadSink implements TimelineSink {
  private readonly encoder = new BatchEncoder();
  private readonly worker: Worker;
  private readonly progress: Int32Array;
  private readonly timer: NodeJS.Timeout;
  private posted = 0;
  private broken: string | null = null;
  private ended = false;

  constructor(
    files: { trace: OutputFile | null; joblog: OutputFile | null },
    private readonly warn: (line: string) => void,
  ) {
    const progress = new SharedArrayBuffer(8);
    this.progress = new Int32Array(progress);
    const data: WriterThreadData = {
      trace: files.trace && { file: files.trace.file, fd: files.trace.release() },
      joblog: files.joblog && { file: files.joblog.file, fd: files.joblog.release() },
      progress,
    };
    this.worker = startWriterThread(data);
    this.worker.on("error", (error) => (this.broken ??= error.message));
    this.worker.on("message", (arrays: { records: Float64Array; inputs: Uint8Array }) => this.encoder.reuse(arrays));
    this.worker.unref();
    this.timer = setInterval(() => this.post(), POST_EVERY_MS);
    this.timer.unref();
  }

  begin(info: RunInfo): void {
    this.encoder.extra({ kind: "begin", info: { ...info, workerNames: [...info.workerNames], contextNames: [...info.contextNames] } });
  }

  opRun(run: OpRun): void {
    this.encoder.run(run);
    if (this.encoder.full) this.post();
  }

  opSettled(settled: SettledOp): void {
    this.encoder.settled(settled);
    if (this.encoder.full) this.post();
  }

  contextRun(run: ContextRun): void {
    this.encoder.context(run);
    if (this.encoder.full) this.post();
  }

  instant(instant: Instant): void {
    if (instant.track !== null) this.encoder.track(instant.track);
    this.encoder.extra({ kind: "instant", instant });
    if (this.encoder.full) this.post();
  }

  counter(atMs: number, queued: number, running: number): void {
    this.encoder.counter(atMs, queued, running);
    if (this.encoder.full) this.post();
  }

  sharedFetch(host: string, hash: string, bytes: number, startMs: number, endMs: number, ok: boolean): void {
    this.encoder.extra({ kind: "shared", host, hash, bytes, startMs, endMs, ok });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.post();
    if (this.broken === null) {
      this.send({ end: true });
      if (!this.waitFor(1, 1)) this.broken = `the writer thread did not finish within ${STALL_MS} ms`;
    }
    if (this.broken !== null) this.warn(`--trace/--joblog: the files may be incomplete: ${this.broken}`);
    void this.worker.terminate();
  }

  private post(): void {
    if (this.encoder.empty || this.broken !== null) return;
    const batch = this.encoder.take();
    this.send({ batch }, [batch.records.buffer as ArrayBuffer, batch.inputs.buffer as ArrayBuffer]);
    this.posted++;
    // Bounded memory: wait while the thread is too far behind.
    if (this.posted - Atomics.load(this.progress, 0) > MAX_AHEAD && !this.waitFor(0, this.posted - MAX_AHEAD)) {
      this.broken = `the writer thread fell ${STALL_MS} ms behind`;
    }
  }

  private send(message: WriterMessage, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  /** Waits until progress[index] ≥ target; false after STALL_MS without it. */
  private waitFor(index: number, target: number): boolean {
    const until = performance.now() + STALL_MS;
    for (;;) {
      const now = Atomics.load(this.progress, index);
      if (now >= target) return true;
      const left = until - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.progress, index, now, Math.min(left, 200));
    }
  }
}
