// --joblog FILE: one JSON line per settled worker op, like GNU parallel's --joblog, written as
// ops settle. Fields: name, host ("host:slot" of the run that settled it, null when none
// did: cancelled or rejected before a run ended), op (its id), attempt, start (epoch ms of that run's start),
// serviceUs, waitUs (issue to start), ok, error (one line), input (a short picture). Times are
// whole numbers (ms, µs): they are printed for every op, and fractions cost several times more.
import type { ContextRun, Instant, OpRun, RunInfo, SettledOp, TimelineSink, Track } from "../../core/trace/timeline-sink.ts";
import { inputSummary } from "../../core/trace/input-summary.ts";
import type { OutputFile } from "./output-file.ts";

export class JoblogWriter implements TimelineSink {
  private names: readonly string[] = [];
  private epochOffset = 0;
  /** Line prefixes by track id + 1 (0: no run), then op name index. */
  private readonly prefixes: Uint8Array[][] = [];

  constructor(private readonly out: OutputFile) {}

  begin(info: RunInfo): void {
    this.names = info.workerNames;
    this.epochOffset = info.epochMs - info.startMs;
  }

  /** One line per op: written piece by piece, no string made (see OutputFile). */
  opSettled(s: SettledOp): void {
    const out = this.out;
    const run = s.run;
    out.bytes(this.prefix(run === null ? null : run.track, s.nameIndex));
    out.int(s.opId);
    if (run === null) out.ascii(`,"attempt":null,"start":null,"serviceUs":null,"waitUs":null`);
    else {
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

  /** `{"name":…,"host":…,"op":` for a track (or none) and an op name, made once. */
  private prefix(track: Track | null, nameIndex: number): Uint8Array {
    const byName = (this.prefixes[track === null ? 0 : track.id + 1] ??= []);
    let prefix = byName[nameIndex];
    if (prefix === undefined) {
      const name = JSON.stringify(this.names[nameIndex] ?? `op #${nameIndex}`);
      byName[nameIndex] = prefix = Buffer.from(`{"name":${name},"host":${track === null ? "null" : JSON.stringify(track.label)},"op":`, "utf8");
    }
    return prefix;
  }

  opRun(_run: OpRun): void {}
  contextRun(_run: ContextRun): void {}
  instant(_instant: Instant): void {}
  counter(): void {}
  sharedFetch(): void {}
}
