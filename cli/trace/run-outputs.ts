// What --trace and --joblog add to a run: the files, opened before the run starts (a bad path is
// refused then), the timeline that observes the runtime, a sampler of the master's queue, and the
// end of both files however the run ends (including an exit forced by a second Ctrl-C).
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import type { Runtime } from "../../core/runtime/runtime.ts";
import { RunTimeline } from "../../core/trace/run-timeline.ts";
import type { TimelineSink } from "../../core/trace/timeline-sink.ts";
import { ChromeTraceWriter } from "./chrome-trace-writer.ts";
import { JoblogWriter } from "./joblog-writer.ts";
import { OutputFile } from "./output-file.ts";

/** The queue counter is sampled this often (and written only when it changed). */
const SAMPLE_EVERY_MS = 10;

export interface RunOutputs {
  readonly observer: RunTimeline;
  /** Starts sampling the runtime's queue. */
  watch(runtime: Runtime): void;
  /** Writes out and closes the files. Safe to call more than once. */
  end(): void;
}

export function openRunOutputs(options: { trace?: string; joblog?: string }): RunOutputs | null {
  const { trace, joblog } = options;
  if (trace === undefined && joblog === undefined) return null;
  if (trace !== undefined && joblog !== undefined && path.resolve(trace) === path.resolve(joblog)) {
    throw new MntError("usage", `--trace and --joblog both name ${trace}`, "give each its own file");
  }
  const sinks: TimelineSink[] = [];
  const files: OutputFile[] = [];
  try {
    if (trace !== undefined) {
      const file = new OutputFile(trace, "trace");
      files.push(file);
      sinks.push(new ChromeTraceWriter(file));
    }
    if (joblog !== undefined) {
      const file = new OutputFile(joblog, "joblog");
      files.push(file);
      sinks.push(new JoblogWriter(file));
    }
  } catch (error) {
    for (const file of files) file.close();
    throw error;
  }
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
