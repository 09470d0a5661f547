// The timeline fed as the scheduler feeds it: runs placed on their slave's track, never
// overlapping, the final run marked, context ops between their send and their ack.
import { expect } from "chai";
import { RunTimeline } from "../../core/trace/run-timeline.ts";
import type { ContextRun, Instant, OpRun, RunInfo, SettledOp, TimelineSink } from "../../core/trace/timeline-sink.ts";
import type { ContextOp, SlaveState, WorkerOp } from "../../core/runtime/scheduler/types.ts";

/** Keeps copies of what it is given (the timeline reuses its record objects). */
class Recorder implements TimelineSink {
  runs: Array<Omit<OpRun, "track" | "payload"> & { track: string }> = [];
  settled: Array<{ opId: number; ok: boolean; error: string | null; run: boolean }> = [];
  contexts: Array<Omit<ContextRun, "track"> & { track: string }> = [];
  begin(_info: RunInfo): void {}
  opRun(run: OpRun): void {
    const { track, payload: _payload, ...rest } = run;
    this.runs.push({ ...rest, track: track.label });
  }
  opSettled(s: SettledOp): void {
    this.settled.push({ opId: s.opId, ok: s.ok, error: s.error, run: s.run !== null });
  }
  contextRun(run: ContextRun): void {
    this.contexts.push({ ...run, track: run.track.label });
  }
  instant(_instant: Instant): void {}
  counter(): void {}
  sharedFetch(): void {}
  end(): void {}
}

const host = { name: "h" } as SlaveState["host"];
const slave = (id: number, slot: number) => ({ id, slot, host }) as SlaveState;
const op = (id: number) => ({ id, nameIndex: 0, payload: new Uint8Array([id & 0x7f]), attempt: 0 }) as unknown as WorkerOp;

describe("RunTimeline", () => {
  it("places answers that arrive together one after another on their track, from the slave's service times", () => {
    const sink = new Recorder();
    const timeline = new RunTimeline([sink]);
    timeline.runStarted(["work"], [], 0);
    const s = slave(1, 0);
    const [a, b, c] = [op(1), op(2), op(3)];
    for (const o of [a, b, c]) timeline.opIssued(o, 0);
    // Three answers read at once at t = 10 ms, each 2 ms of service.
    for (const o of [a, b, c]) {
      timeline.opAnswered(o, s, 0, 2000, false, false, 10);
      timeline.opSettled(o, null);
    }
    expect(sink.runs.map((r) => [r.opId, r.startMs, r.serviceUs, r.final, r.track])).to.deep.equal([
      [1, 8, 2000, true, "h:0"],
      [2, 10, 2000, true, "h:0"],
      [3, 12, 2000, true, "h:0"],
    ]);
    expect(sink.runs.map((r) => r.waitUs)).to.deep.equal([8000, 10000, 12000]);
    expect(sink.runs.map((r) => r.input)).to.deep.equal([null, null, null]); // made by the sinks
    expect(sink.settled).to.deep.equal([1, 2, 3].map((opId) => ({ opId, ok: true, error: null, run: true })));
  });

  it("a retried exception and a loss are runs that did not settle the op; the run that did is final", () => {
    const sink = new Recorder();
    const timeline = new RunTimeline([sink]);
    timeline.runStarted(["work"], [], 0);
    const o = op(1);
    timeline.opIssued(o, 0);
    timeline.opAnswered(o, slave(1, 0), 0, 1000, true, false, 5); // threw, has a retry: no settle follows
    timeline.opLost(o, slave(2, 1), 1, 20); // its next run's slave died
    timeline.opAnswered(o, slave(3, 1), 2, 1000, true, false, 40); // threw again, no retry left
    timeline.opSettled(o, new Error("no luck\nsecond line"));
    expect(sink.runs.map((r) => [r.attempt, r.outcome, r.final, r.track, r.error])).to.deep.equal([
      [0, "retried", false, "h:0", null],
      [1, "lost", false, "h:1", null],
      [2, "error", true, "h:1", "no luck"],
    ]);
    expect(sink.runs[2]!.startMs, "after the lost run on the same track").to.equal(39);
    expect(sink.settled).to.deep.equal([{ opId: 1, ok: false, error: "no luck", run: true }]);
  });

  it("an op cancelled before any run settles without one; a late answer is a run of its own", () => {
    const sink = new Recorder();
    const timeline = new RunTimeline([sink]);
    timeline.runStarted(["work"], [], 0);
    const o = op(1);
    timeline.opIssued(o, 0);
    timeline.opSettled(o, new Error("work was cancelled"));
    timeline.opAnswered(o, slave(1, 0), 0, 500, false, true, 3);
    expect(sink.settled).to.deep.equal([{ opId: 1, ok: false, error: "work was cancelled", run: false }]);
    expect(sink.runs.map((r) => [r.outcome, r.final])).to.deep.equal([["late", false]]);
  });

  it("a context op runs from its send (or the track's last run) to its ack; replays say so", () => {
    const sink = new Recorder();
    const timeline = new RunTimeline([sink]);
    timeline.runStarted(["work"], ["set"], 0);
    const s = slave(1, 0);
    const entry = (seq: number) => ({ seq, nameIndex: 0 }) as ContextOp;
    timeline.contextSent(entry(1), s, true, 1);
    timeline.contextSent(entry(2), s, false, 2);
    timeline.contextAcked(1, s, null, 4);
    timeline.contextAcked(2, s, new Error("bad"), 6);
    expect(sink.contexts.map((c) => [c.seq, c.replay, c.startMs, c.endMs, c.error])).to.deep.equal([
      [1, true, 1, 4, null],
      [2, false, 4, 6, "bad"],
    ]);
  });
});
