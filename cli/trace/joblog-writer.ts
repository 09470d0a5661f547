// --joblog FILE: one JSON line per settled worker op, like GNU parallel's --joblog, written as
// ops settle. Fields: op (id), name, host ("host:slot" of the run that settled it, null when none
// did: cancelled or rejected before a run ended), attempt, start (epoch ms of that run's start),
// serviceUs, waitUs (issue to start), ok, error (one line), input (a short picture).
import type { ContextRun, Instant, OpRun, RunInfo, SettledOp, TimelineSink } from "../../core/trace/timeline-sink.ts";
import type { OutputFile } from "./output-file.ts";

export class JoblogWriter implements TimelineSink {
  /** Op names as JSON strings, made once. */
  private names: string[] = [];
  private epochOffset = 0;

  constructor(private readonly out: OutputFile) {}

  begin(info: RunInfo): void {
    this.names = info.workerNames.map((name) => JSON.stringify(name));
    this.epochOffset = info.epochMs - info.startMs;
  }

  opSettled(s: SettledOp): void {
    const run = s.run;
    const name = this.names[s.nameIndex] ?? `"op #${s.nameIndex}"`;
    const where = run === null ? `"host":null,"attempt":null,"start":null,"serviceUs":null,"waitUs":null` : `"host":${JSON.stringify(run.track.label)},"attempt":${run.attempt},"start":${round3(run.startMs + this.epochOffset)},"serviceUs":${Math.round(run.serviceUs)},"waitUs":${Math.round(run.waitUs)}`;
    const outcome = s.ok ? `"ok":true,"error":null` : `"ok":false,"error":${JSON.stringify(s.error)}`;
    this.out.write(`{"op":${s.opId},"name":${name},${where},${outcome},"input":${JSON.stringify(s.input)}}\n`);
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

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
