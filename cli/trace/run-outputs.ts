// What --trace and --joblog add to a run: the files, opened before the run starts (a bad path is
// refused then), the timeline that observes the runtime, a sampler of the master's queue, and the
// end of both files however the run ends (including an exit forced by a second Ctrl-C).
import os from "node:os";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import type { Runtime } from "../../core/runtime/runtime.ts";
import { RunTimeline } from "../../core/trace/run-timeline.ts";
import type { TimelineSink } from "../../core/trace/timeline-sink.ts";
import { ChromeTraceWriter } from "./chrome-trace-writer.ts";
import { JoblogWriter } from "./joblog-writer.ts";
import { OutputFile } from "./output-file.ts";
import { ThreadSink } from "./thread-sink.ts";

/** The queue counter is sampled this often (and written only when it changed). */
const SAMPLE_EVERY_MS = 10;

export interface RunOutputs {
  readonly observer: RunTimeline;
  /** Starts sampling the runtime's queue. */
  watch(runtime: Runtime): void;
  /** Writes out and closes the files. Safe to call more than once. */
  end(): void;
}

/**
 * Where the files are formatted and written: on a thread of their own (`inThread`) when the
 * machine has cores to spare for it (4 or more), else on the master's thread. Measured on the
 * 2-core machine of docs/BENCHMARKS.md, where the slaves and the agent keep both cores busy: the
 * thread added ~10 µs of CPU per op to the master process (batches handed over, a second heap,
 * the files formatted by colder code), formatting inline ~5 µs. `warn` says a line on stderr (the
 * writer thread failed). MNT_TRACE_THREAD=1 or 0 overrides the choice (for measurements).
 */
export function openRunOutputs(options: { trace?: string; joblog?: string; inThread?: boolean }, warn: (line: string) => void = (line) => process.stderr.write(`mnt: ${line}\n`)): RunOutputs | null {
  const { trace, joblog } = options;
  if (trace === undefined && joblog === undefined) return null;
  if (trace !== undefined && joblog !== undefined && path.resolve(trace) === path.resolve(joblog)) {
    throw new MntError("usage", `--trace and --joblog both name ${trace}`, "give each its own file");
  }
  let traceFile: OutputFile | null = null;
  let joblogFile: OutputFile | null = null;
  try {
    if (trace !== undefined) traceFile = OutputFile.open(trace, "trace");
    if (joblog !== undefined) joblogFile = OutputFile.open(joblog, "joblog");
  } catch (error) {
    traceFile?.close();
    throw error;
  }
  const sinks: TimelineSink[] = [];
  const override = process.env.MNT_TRACE_THREAD;
  const inThread = options.inThread ?? (override !== undefined ? override === "1" : os.availableParallelism() >= 4);
  if (!inThread) {
    if (traceFile) sinks.push(new ChromeTraceWriter(traceFile));
    if (joblogFile) sinks.push(new JoblogWriter(joblogFile));
  } else sinks.push(new ThreadSink({ trace: traceFile, joblog: joblogFile }, warn));
  const timeline = new RunTimeline(sinks);
  let sampler: NodeJS.Timeout | null = null;
  let runtime: Runtime | null = null;
  const sample = () => {
    if (!runtime) return;
    const stats = runtime.stats();
    timeline.sample(stats.workerQueued, stats.workerRunning, performance.now());
  };
  const end = () => {
    if (sampler) clearInterval(sampler);
    sampler = null;
    sample();
    runtime = null;
    timeline.end();
    process.off("exit", end);
  };
  process.on("exit", end);
  return {
    observer: timeline,
    watch(r) {
      runtime = r;
      sample();
      sampler = setInterval(sample, SAMPLE_EVERY_MS);
      sampler.unref();
    },
    end,
  };
}
