// --trace FILE: the run in the Chrome trace event format (a JSON object whose `traceEvents` hold
// the events), which ui.perfetto.dev and chrome://tracing open. Layout:
//   pid 1 "master": the queue counter ("C": queued, running), shared.set and run-wide instants;
//   pid 2… one per host ("process_name" = host), tid = slot, one thread per slave ("host:slot");
//     worker runs and context ops are complete slices ("X"), slave up/lost thread instants;
//   tid 1000000 of a host, "host agent": shared-data fetches ("X") and agent up/lost instants.
// ts and dur are whole µs from the start of the run, on the master's clock (whole numbers: a
// fraction costs several times as much to print, and this is printed for every op). Events are
// written as they come (in batches), so memory does not grow with the run.
import type { ContextRun, Instant, OpRun, RunInfo, SettledOp, TimelineSink, Track } from "../../core/trace/timeline-sink.ts";
import { inputSummary } from "../../core/trace/input-summary.ts";
import type { OutputFile } from "./output-file.ts";

const MASTER_PID = 1;
/** The outcome and final flag of a run, with the keys around them, by outcome. */
const FINAL: Record<string, string> = {};
const NOT_FINAL: Record<string, string> = {};
for (const outcome of ["ok", "error", "retried", "lost", "late"]) {
  FINAL[outcome] = `,"outcome":"${outcome}","final":true,"waitUs":`;
  NOT_FINAL[outcome] = `,"outcome":"${outcome}","final":false,"waitUs":`;
}
const AGENT_TID = 1_000_000;

export class ChromeTraceWriter implements TimelineSink {
  private rawWorkerNames: readonly string[] = [];
  private contextNames: string[] = [];
  private startMs = 0;
  /** Declared tracks, by Track.id, with their pid. */
  private readonly trackPid: number[] = [];
  private readonly hostPid = new Map<string, number>();
  private lastQueued = -1;
  /** Run prefixes by track id, then op name index. */
  private readonly prefixes: Uint8Array[][] = [];
  private lastRunning = -1;
  private first = true;

  constructor(private readonly out: OutputFile) {}

  begin(info: RunInfo): void {
    this.rawWorkerNames = info.workerNames;
    this.contextNames = info.contextNames.map((name) => JSON.stringify(name));
    this.startMs = info.startMs;
    const meta = { tool: "mnt exec --trace", startedAt: new Date(info.epochMs).toISOString(), clock: "the master's, µs from the start of the run" };
    this.out.write(`{"displayTimeUnit":"ms","otherData":${JSON.stringify(meta)},"traceEvents":[\n`);
    this.event(`{"ph":"M","name":"process_name","pid":${MASTER_PID},"tid":0,"args":{"name":"master"}}`);
    this.event(`{"ph":"M","name":"process_sort_index","pid":${MASTER_PID},"tid":0,"args":{"sort_index":0}}`);
  }

  /** One per op run: written piece by piece, no string made (see OutputFile). */
  opRun(run: OpRun): void {
    const out = this.out;
    // begin() has written the first events: every run starts with its separator.
    out.bytes(this.runPrefix(run.track, run.nameIndex));
    // ts and the end are each rounded, dur is their difference: runs that follow each other on a
    // track must not overlap by a rounding µs (a viewer would take the second for a child of the first).
    const ts = Math.round((run.startMs - this.startMs) * 1000);
    out.int(ts);
    out.ascii(`,"dur":`);
    out.int(Math.round((run.startMs - this.startMs) * 1000 + run.serviceUs) - ts);
    out.ascii(`,"args":{"op":`);
    out.int(run.opId);
    out.ascii(`,"attempt":`);
    out.int(run.attempt);
    out.ascii(run.final ? FINAL[run.outcome] : NOT_FINAL[run.outcome]);
    out.int(run.waitUs);
    out.ascii(`,"serviceUs":`);
    out.int(run.serviceUs);
    out.ascii(`,"input":`);
    out.json((run.input ??= inputSummary(run.payload)));
    if (run.error !== null) {
      out.ascii(`,"error":`);
      out.json(run.error);
    }
    out.ascii("}}");
  }

  opSettled(_settled: SettledOp): void {}

  contextRun(run: ContextRun): void {
    const pid = this.pidOf(run.track);
    const name = this.contextNames[run.nameIndex] ?? `"context #${run.nameIndex}"`;
    const error = run.error === null ? "" : `,"error":${JSON.stringify(run.error)}`;
    this.event(
      `{"ph":"X","cat":"${run.replay ? "context,replay" : "context"}","name":${name},"pid":${pid},"tid":${run.track.slot},"ts":${this.us(run.startMs)},"dur":${this.us(run.endMs) - this.us(run.startMs)},` +
        `"args":{"seq":${run.seq},"replay":${run.replay}${error}}}`,
    );
  }

  instant(instant: Instant): void {
    const args = JSON.stringify(instant.args);
    const ts = this.us(instant.atMs);
    if (instant.track !== null) {
      this.event(`{"ph":"i","s":"t","name":${JSON.stringify(instant.name)},"pid":${this.pidOf(instant.track)},"tid":${instant.track.slot},"ts":${ts},"args":${args}}`);
    } else if (instant.host !== null) {
      this.event(`{"ph":"i","s":"p","name":${JSON.stringify(instant.name)},"pid":${this.pidOfHost(instant.host)},"tid":${AGENT_TID},"ts":${ts},"args":${args}}`);
    } else {
      this.event(`{"ph":"i","s":"g","name":${JSON.stringify(instant.name)},"pid":${MASTER_PID},"tid":0,"ts":${ts},"args":${args}}`);
    }
  }

  counter(atMs: number, queued: number, running: number): void {
    if (queued === this.lastQueued && running === this.lastRunning) return;
    this.lastQueued = queued;
    this.lastRunning = running;
    this.event(`{"ph":"C","name":"worker ops","pid":${MASTER_PID},"tid":0,"ts":${this.us(atMs)},"args":{"queued":${queued},"running":${running}}}`);
  }

  sharedFetch(host: string, hash: string, bytes: number, startMs: number, endMs: number, ok: boolean): void {
    this.event(
      `{"ph":"X","cat":"shared","name":"shared fetch","pid":${this.pidOfHost(host)},"tid":${AGENT_TID},"ts":${this.us(startMs)},"dur":${Math.round((endMs - startMs) * 1000)},"args":{"hash":"${hash.slice(0, 16)}","bytes":${bytes},"ok":${ok}}}`,
    );
  }

  end(): void {
    // A run that failed before it began (the program did not build) still leaves a valid, empty trace.
    if (this.first) this.out.write(`{"displayTimeUnit":"ms","traceEvents":[`);
    this.out.write("\n]}\n");
    this.out.close();
  }

  /** `,\n{"ph":"X","cat":"worker","name":…,"pid":…,"tid":…,"ts":` for a track and an op name, made once. */
  private runPrefix(track: Track, nameIndex: number): Uint8Array {
    const byName = (this.prefixes[track.id] ??= []);
    let prefix = byName[nameIndex];
    if (prefix === undefined) {
      const pid = this.pidOf(track);
      const name = JSON.stringify(this.rawWorkerNames[nameIndex] ?? `op #${nameIndex}`);
      byName[nameIndex] = prefix = Buffer.from(`,\n{"ph":"X","cat":"worker","name":${name},"pid":${pid},"tid":${track.slot},"ts":`, "utf8");
    }
    return prefix;
  }

  private event(json: string): void {
    this.out.write(this.first ? json : `,\n${json}`);
    this.first = false;
  }

  private us(ms: number): number {
    return Math.round((ms - this.startMs) * 1000);
  }

  private pidOf(track: Track): number {
    const known = this.trackPid[track.id];
    if (known !== undefined) return known;
    const pid = this.pidOfHost(track.host);
    this.trackPid[track.id] = pid;
    this.event(`{"ph":"M","name":"thread_name","pid":${pid},"tid":${track.slot},"args":{"name":${JSON.stringify(track.label)}}}`);
    this.event(`{"ph":"M","name":"thread_sort_index","pid":${pid},"tid":${track.slot},"args":{"sort_index":${track.slot}}}`);
    return pid;
  }

  private pidOfHost(host: string): number {
    let pid = this.hostPid.get(host);
    if (pid !== undefined) return pid;
    pid = MASTER_PID + 1 + this.hostPid.size;
    this.hostPid.set(host, pid);
    this.event(`{"ph":"M","name":"process_name","pid":${pid},"tid":0,"args":{"name":${JSON.stringify(host)}}}`);
    this.event(`{"ph":"M","name":"process_sort_index","pid":${pid},"tid":0,"args":{"sort_index":${pid}}}`);
    this.event(`{"ph":"M","name":"thread_name","pid":${pid},"tid":${AGENT_TID},"args":{"name":${JSON.stringify(`${host} agent`)}}}`);
    this.event(`{"ph":"M","name":"thread_sort_index","pid":${pid},"tid":${AGENT_TID},"args":{"sort_index":-1}}`);
    return pid;
  }
}
