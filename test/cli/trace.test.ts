// End-to-end: `mnt exec --trace FILE --joblog FILE` on local slaves. The trace is read back as
// Perfetto would read it and checked against the run's own results: each op result names the
// slave process that computed it, and the trace must show that op's final run on that slave's track.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { PNG } from "pngjs";
import { runMnt, type MntRun } from "../helpers/mnt.ts";
import { describeRun, expectOneLineMntError, fixture } from "./support.ts";

interface TraceEvent {
  ph: string;
  name: string;
  cat?: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  s?: string;
  args?: Record<string, unknown>;
}

type Outcome = { ok: true; pid: number; value: unknown } | { ok: false; error: string };

interface JoblogLine {
  op: number;
  name: string;
  host: string | null;
  attempt: number | null;
  start: number | null;
  serviceUs: number | null;
  waitUs: number | null;
  ok: boolean;
  error: string | null;
  input: string;
}

const trackKey = (event: { pid: number; tid: number }) => `${event.pid}/${event.tid}`;

/** The trace as a viewer reads it, checked against the rules of the Chrome trace event format. */
function readTrace(file: string): TraceEvent[] {
  const doc = JSON.parse(readFileSync(file, "utf8")) as { traceEvents: TraceEvent[] };
  expect(doc.traceEvents, "a JSON object with traceEvents").to.be.an("array");
  for (const event of doc.traceEvents) {
    const shown = JSON.stringify(event);
    expect(event.ph, shown).to.be.oneOf(["X", "i", "C", "M"]);
    expect(event.name, shown).to.be.a("string").and.not.equal("");
    expect(Number.isInteger(event.pid) && Number.isInteger(event.tid), `integer pid and tid: ${shown}`).to.equal(true);
    if (event.ph === "M") {
      expect(event.args, shown).to.be.an("object");
      continue;
    }
    expect(event.ts, shown).to.be.a("number").and.at.least(0);
    if (event.ph === "X") expect(event.dur, shown).to.be.a("number").and.at.least(0);
    if (event.ph === "i") expect(event.s, shown).to.be.oneOf(["t", "p", "g"]);
    if (event.ph === "C") for (const value of Object.values(event.args ?? {})) expect(value, shown).to.be.a("number");
  }
  // Slices of one thread nest or follow each other, never overlap in part (Perfetto's rule for "X").
  const byTrack = new Map<string, TraceEvent[]>();
  for (const event of doc.traceEvents) if (event.ph === "X") byTrack.set(trackKey(event), [...(byTrack.get(trackKey(event)) ?? []), event]);
  for (const [track, slices] of byTrack) {
    slices.sort((a, b) => a.ts! - b.ts!);
    for (let i = 1; i < slices.length; i++) expect(slices[i]!.ts!, `track ${track}: ${JSON.stringify(slices[i - 1])} then ${JSON.stringify(slices[i])}`).to.be.at.least(slices[i - 1]!.ts! + slices[i - 1]!.dur!);
  }
  return doc.traceEvents;
}

function readJoblog(file: string): JoblogLine[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JoblogLine);
}

function results(run: MntRun): Outcome[] {
  const line = run.stdout.split("\n").find((l) => l.startsWith("RESULTS "));
  expect(line, describeRun(run)).to.be.a("string");
  return JSON.parse(line!.slice("RESULTS ".length)) as Outcome[];
}

/** "host:slot" of each slave track, from the thread_name metadata. */
function trackNames(events: TraceEvent[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const event of events) if (event.ph === "M" && event.name === "thread_name") names.set(trackKey(event), String(event.args!.name));
  return names;
}

/** The track on which the slave process `pid` came up. */
function trackOfPid(events: TraceEvent[], pid: number): string {
  const up = events.filter((event) => event.ph === "i" && event.name.startsWith("slave up") && event.args!.pid === pid);
  expect(up, `one "slave up" for pid ${pid}`).to.have.length(1);
  return trackKey(up[0]!);
}

function workerRuns(events: TraceEvent[], opId: number): TraceEvent[] {
  return events.filter((event) => event.ph === "X" && event.cat === "worker" && event.args!.op === opId);
}

describe("mnt exec --trace and --joblog", function () {
  this.timeout(120_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-trace-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("every op's final run is on the track of the slave that answered it; context ops on every slave; retries, errors and a cancel in both files", async () => {
    const trace = path.join(dir, "trace.json");
    const joblog = path.join(dir, "ops.jsonl");
    const before = Date.now();
    const run = await runMnt(["exec", fixture("trace-job.ts"), "--slots", "3", "-q", "--trace", trace, "--joblog", joblog, "--", "mixed", "3", dir]);
    const after = Date.now();
    expect(run.code, describeRun(run)).to.equal(0);
    const outcomes = results(run);
    expect(outcomes).to.have.length(32); // square 0–29 (op ids 1–30), flaky (31), the cancelled square (32)
    const events = readTrace(trace);
    const names = trackNames(events);

    outcomes.forEach((outcome, index) => {
      const opId = index + 1;
      const finals = workerRuns(events, opId).filter((event) => event.args!.final === true);
      if (opId === 32) {
        expect(outcome.ok).to.equal(false);
        expect(finals, "the cancelled op never ran").to.have.length(0);
        return;
      }
      expect(finals, `op ${opId}: one final run`).to.have.length(1);
      const final = finals[0]!;
      expect(final.name).to.equal(opId === 31 ? "flaky" : "square");
      if (outcome.ok) {
        expect(trackKey(final), `op ${opId} ran on the slave with pid ${outcome.pid}`).to.equal(trackOfPid(events, outcome.pid));
        expect(final.args!.outcome).to.equal("ok");
      } else {
        expect(final.args!.outcome).to.equal("error");
        expect(final.args!.error).to.equal(outcome.error);
      }
    });
    expect(outcomes[7]).to.deep.equal({ ok: false, error: "trace fixture: 7 is unlucky" });
    const flakyRuns = workerRuns(events, 31).map((event) => [event.args!.attempt, event.args!.outcome, event.args!.final]);
    expect(flakyRuns).to.deep.equal([
      [0, "retried", false],
      [1, "ok", true],
    ]);
    expect(workerRuns(events, 3)[0]!.args!.input).to.equal("{i: 2}");

    // Both context ops, on each of the 3 slaves, which all were up before main issued them.
    const slaveTracks = [...names.entries()].filter(([, name]) => /^local:\d+$/.test(name)).map(([key]) => key);
    expect(slaveTracks).to.have.length(3);
    for (const seq of [1, 2]) {
      const on = events.filter((event) => event.ph === "X" && event.cat?.startsWith("context") && event.args!.seq === seq).map(trackKey);
      expect(on.sort(), `context op ${seq} on every slave`).to.deep.equal([...slaveTracks].sort());
    }
    expect(events.some((event) => event.ph === "C" && event.name === "worker ops" && typeof event.args!.queued === "number"), "the queue counter").to.equal(true);

    // The joblog: one line per settled op, matching the results and the trace.
    const lines = readJoblog(joblog);
    // In the order ops settled: each op once.
    expect(lines.map((line) => line.op).sort((a, b) => a - b)).to.deep.equal(outcomes.map((_, index) => index + 1));
    for (const line of lines) {
      const outcome = outcomes[line.op - 1]!;
      expect(line.ok, `op ${line.op}`).to.equal(outcome.ok);
      expect(line.name).to.equal(line.op === 31 ? "flaky" : "square");
      if (!outcome.ok) expect(line.error).to.equal(outcome.error);
      else expect(line.error).to.equal(null);
      if (line.op === 32) {
        expect(line).to.include({ host: null, attempt: null, start: null });
        expect(line.error).to.match(/cancelled/);
        continue;
      }
      const final = workerRuns(events, line.op).find((event) => event.args!.final === true)!;
      expect(line.host).to.equal(names.get(trackKey(final)));
      expect(line.attempt).to.equal(final.args!.attempt);
      expect(line.serviceUs).to.equal(final.args!.serviceUs);
      expect(line.start).to.be.within(before, after);
      expect(line.waitUs).to.be.at.least(0);
    }
    expect(lines.find((line) => line.op === 31)!.attempt).to.equal(1);
  });

  it("an op whose first run crashed its slave shows both runs, the lost one ending where the slave was lost", async () => {
    const trace = path.join(dir, "trace.json");
    const joblog = path.join(dir, "ops.jsonl");
    const run = await runMnt(["exec", fixture("trace-job.ts"), "--slots", "2", "-q", "--trace", trace, "--joblog", joblog, "--", "crash", "2", dir]);
    expect(run.code, describeRun(run)).to.equal(0);
    const outcomes = results(run);
    expect(outcomes.every((outcome) => outcome.ok)).to.equal(true);
    const events = readTrace(trace);
    const runs = workerRuns(events, 4);
    expect(runs.map((event) => [event.args!.attempt, event.args!.outcome, event.args!.final])).to.deep.equal([
      [0, "lost", false],
      [1, "ok", true],
    ]);
    const [lost, final] = runs as [TraceEvent, TraceEvent];
    const loss = events.filter((event) => event.ph === "i" && event.name === "slave lost");
    expect(loss, "one slave lost").to.have.length(1);
    expect(trackKey(loss[0]!), "on the track of the lost run").to.equal(trackKey(lost));
    expect(loss[0]!.args!.reason).to.match(/SIGSEGV/);
    expect(trackKey(final)).to.equal(trackOfPid(events, (outcomes[3] as { pid: number }).pid));
    for (let opId = 1; opId <= 12; opId++) expect(workerRuns(events, opId).filter((event) => event.args!.final === true), `op ${opId}`).to.have.length(1);
    const lines = readJoblog(joblog);
    expect(lines).to.have.length(12);
    expect(lines.find((line) => line.op === 4)).to.include({ attempt: 1, ok: true });
  });

  it("a run whose main throws still writes a whole trace and the settled ops' lines", async () => {
    const trace = path.join(dir, "trace.json");
    const joblog = path.join(dir, "ops.jsonl");
    const run = await runMnt(["exec", fixture("trace-job.ts"), "--slots", "1", "-q", "--trace", trace, "--joblog", joblog, "--", "throws", "1", dir]);
    expect(run.code, describeRun(run)).to.equal(70);
    const events = readTrace(trace);
    expect(events.filter((event) => event.ph === "X" && event.args!.final === true)).to.have.length(5);
    expect(readJoblog(joblog).map((line) => [line.op, line.ok]).sort(([a], [b]) => Number(a) - Number(b))).to.deep.equal([1, 2, 3, 4, 5].map((op) => [op, true]));
  });

  it("mnt trace render draws a run's trace as a PNG: a row per slave track; a file that is not a trace is one line, exit 64", async () => {
    const trace = path.join(dir, "trace.json");
    const run = await runMnt(["exec", fixture("trace-job.ts"), "--slots", "2", "-q", "--trace", trace, "--", "crash", "2", dir]);
    expect(run.code, describeRun(run)).to.equal(0);
    const image = path.join(dir, "trace.png");
    const render = await runMnt(["trace", "render", trace, "-o", image, "--width", "800"]);
    expect(render.code, describeRun(render)).to.equal(0);
    const png = PNG.sync.read(readFileSync(image));
    expect(png.width).to.equal(800);
    expect(png.height, "the header, the queue, 2 slave rows at least, the axis, the legend").to.be.greaterThan(150);
    const notTrace = path.join(dir, "ops.jsonl"); // a joblog given by mistake
    writeFileSync(notTrace, '{"op":1}\n');
    const line = expectOneLineMntError(await runMnt(["trace", "render", notTrace, "-o", image]), 64);
    expect(line).to.equal(`mnt: ${notTrace}: not a Chrome trace (no traceEvents array) (give a file written by \`mnt exec --trace\`)`);
  });

  it("a trace or joblog path that cannot be written: one line naming it and the fix, exit 64, before the build", async () => {
    const missing = path.join(dir, "no-such-folder", "trace.json");
    const line = expectOneLineMntError(await runMnt(["exec", fixture("trace-job.ts"), "--trace", missing]), 64);
    expect(line).to.equal(`mnt: --trace ${missing}: cannot write the file (the folder ${path.dirname(missing)} does not exist) (give --trace a file path in a folder you can write to)`);
    const folder = path.join(dir, "a-folder");
    mkdirSync(folder);
    const second = expectOneLineMntError(await runMnt(["exec", fixture("trace-job.ts"), "--joblog", folder]), 64);
    expect(second).to.equal(`mnt: --joblog ${folder}: cannot write the file (it is a folder) (give --joblog a file path in a folder you can write to)`);
  });
});
