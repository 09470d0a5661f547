// --joblog FILE: one JSON line per settled worker op, like GNU parallel's --joblog, written as
// ops settle. Fields: op (id), name, host ("host:slot" of the run that settled it, null when none
// did: cancelled or rejected before a run ended), attempt, start (epoch ms of that run's start),
// serviceUs, waitUs (issue to start), ok, error (one line), input (a short picture). Times are
// whole numbers (ms, µs): they are printed for every op, and fractions cost several times more.
import type { ContextRun, Instant, OpRun, RunInfo, SettledOp, TimelineSink } from "../../core/trace/timeline-sink.ts";
import { inputSummary } from "../../core/trace/input-summary.ts";
import type { OutputFile } from "./output-file.ts";

export class JoblogWriter implements TimelineSink {
  private names: readonly string[] = [];
  private epochOffset = 0;

  constructor(private readonly out: OutputFile) {}

  begin(info: RunInfo): void {
    this.names = info.workerNames;
    this.epochOffset = info.epochMs - info.startMs;
  }

  /** One line per op: written piece by piece, no string made (see OutputFile). */
  opSettled(s: SettledOp): void {
    const out = this.out;
    const run = s.run;
    out.ascii(`{"op":`);
    out.int(s.opId);
    out.ascii(`,"name":`);
    out.json(this.names[s.nameIndex] ?? `op #${s.nameIndex}`);
    if (run === null) out.ascii(`,"host":null,"attempt":null,"start":null,"serviceUs":null,"waitUs":null`);
    else {
      out.ascii(`,"host":`);
      out.json(run.track.label);
      out.ascii(`,"attempt":`);
      out.int(run.attempt);
      out.ascii(`,"start":`);
      out.int(run.startMs + this.epochOffset);
      out.ascii(`,"serviceUs":`);
      out.int(run.serviceUs);
      out.ascii(`,"waitUs":`);
      out.int(run.waitUs);
    }
    if (s.ok) out.ascii(`,"ok":true,"error":null,"input":`);
    else {
      out.ascii(`,"ok":false,"error":`);
      out.json(s.error ?? "");
      out.ascii(`,"input":`);
    }
    out.json((s.input ??= s.run?.input ?? inputSummary(s.payload)));
    out.ascii("}\n");
  }

  end(): void {
    this.out.close();
  }

  opRun(_run: OpRun): void {}
  contextRun(_run: ContextRun): void {}
  instant(_instant: Instant): void {}
  counter(): void {}
  sharedFetch(): void {}
}
