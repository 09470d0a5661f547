// A Chrome trace file (as `mnt exec --trace` writes it, or any in the same format) read into what
// the renderer draws: named tracks of slices and instants, global and per-host instants, counters.
import { readFileSync } from "node:fs";
import { MntError } from "../../../core/errors.ts";

export interface Slice {
  start: number;
  dur: number;
  name: string;
  context: boolean;
  /** A run that did not settle its op (retried, lost, late). */
  superseded: boolean;
}

export interface Mark {
  at: number;
  name: string;
}

export interface TraceTrack {
  pid: number;
  tid: number;
  label: string;
  slices: Slice[];
  marks: Mark[];
}

export interface TraceModel {
  tracks: TraceTrack[];
  /** Instants of a whole process (agent events) or of the run. */
  marks: Mark[];
  /** Samples of the "worker ops" counter (or the first counter found): time and series values. */
  counter: { name: string; series: string[]; samples: Array<{ at: number; values: number[] }> } | null;
  /** First and last time in the trace (µs). */
  start: number;
  end: number;
}

interface RawEvent {
  ph?: string;
  name?: string;
  cat?: string;
  pid?: number;
  tid?: number;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

export function readTrace(file: string): TraceModel {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code ? (error as Error).message : `not JSON: ${(error as Error).message}`;
    throw new MntError("usage", `${file}: cannot read the trace (${why})`, "give a file written by `mnt exec --trace`");
  }
  const events = Array.isArray(doc) ? doc : (doc as { traceEvents?: unknown })?.traceEvents;
  if (!Array.isArray(events)) throw new MntError("usage", `${file}: not a Chrome trace (no traceEvents array)`, "give a file written by `mnt exec --trace`");
  return modelOf(events as RawEvent[]);
}

export function modelOf(events: RawEvent[]): TraceModel {
  const threadNames = new Map<string, string>();
  const processNames = new Map<number, string>();
  const tracks = new Map<string, TraceTrack>();
  const marks: Mark[] = [];
  let counter: TraceModel["counter"] = null;
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  const trackOf = (pid: number, tid: number) => {
    const key = `${pid}/${tid}`;
    let track = tracks.get(key);
    if (!track) tracks.set(key, (track = { pid, tid, label: "", slices: [], marks: [] }));
    return track;
  };
  for (const event of events) {
    const pid = event.pid ?? 0;
    const tid = event.tid ?? 0;
    const name = event.name ?? "";
    if (event.ph === "M") {
      const label = String(event.args?.name ?? "");
      if (name === "thread_name") threadNames.set(`${pid}/${tid}`, label);
      if (name === "process_name") processNames.set(pid, label);
      continue;
    }
    const ts = event.ts;
    if (typeof ts !== "number") continue;
    start = Math.min(start, ts);
    end = Math.max(end, ts + (event.ph === "X" ? (event.dur ?? 0) : 0));
    if (event.ph === "X") {
      const args = event.args ?? {};
      trackOf(pid, tid).slices.push({ start: ts, dur: event.dur ?? 0, name, context: (event.cat ?? "").startsWith("context"), superseded: args.final === false });
    } else if (event.ph === "i" || event.ph === "I") {
      if ((event as { s?: string }).s === "t") trackOf(pid, tid).marks.push({ at: ts, name });
      else marks.push({ at: ts, name });
    } else if (event.ph === "C") {
      const args = event.args ?? {};
      if (counter === null) counter = { name, series: Object.keys(args), samples: [] };
      if (counter.name === name) counter.samples.push({ at: ts, values: counter.series.map((key) => Number(args[key] ?? 0)) });
    }
  }
  for (const [key, track] of tracks) track.label = threadNames.get(key) ?? `${processNames.get(track.pid) ?? track.pid}:${track.tid}`;
  // The picture starts when the first slave does (before that: the build and the agents' start).
  let firstSlave = Number.POSITIVE_INFINITY;
  for (const track of tracks.values()) {
    for (const slice of track.slices) firstSlave = Math.min(firstSlave, slice.start);
    for (const mark of track.marks) firstSlave = Math.min(firstSlave, mark.at);
  }
  if (Number.isFinite(firstSlave) && firstSlave < end) start = Math.max(start, firstSlave - (end - firstSlave) * 0.01);
  // Slave tracks first in host and slot order, each host's agent track after its slaves.
  const ordered = [...tracks.values()].sort((a, b) => a.pid - b.pid || a.tid - b.tid);
  if (!Number.isFinite(start)) start = end = 0;
  return { tracks: ordered, marks, counter, start, end };
}
