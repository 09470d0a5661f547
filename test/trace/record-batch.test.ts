// What the master's thread encodes is what the writer thread replays, record for record.
import { expect } from "chai";
import { BatchDecoder, BatchEncoder } from "../../cli/trace/record-batch.ts";
import type { ContextRun, Instant, OpRun, RunInfo, SettledOp, TimelineSink, Track } from "../../core/trace/timeline-sink.ts";

class Log implements TimelineSink {
  lines: string[] = [];
  begin(info: RunInfo): void {
    this.lines.push(`begin ${info.workerNames.join(",")}`);
  }
  opRun(r: OpRun): void {
    this.lines.push(`run ${r.track.label} op${r.opId} n${r.nameIndex} a${r.attempt} ${r.outcome} ${r.final} ${r.startMs} ${r.serviceUs} ${r.waitUs} [${r.input ?? [...r.payload].join(" ")}] ${r.error}`);
  }
  opSettled(s: SettledOp): void {
    this.lines.push(`settled op${s.opId} ${s.ok} ${s.error} run:${s.run !== null} [${s.input ?? [...s.payload].join(" ")}]`);
  }
  contextRun(c: ContextRun): void {
    this.lines.push(`context ${c.track.label} ${c.seq} ${c.replay} ${c.startMs}-${c.endMs} ${c.error}`);
  }
  instant(i: Instant): void {
    this.lines.push(`instant ${i.name} ${i.track?.label ?? i.host} ${i.atMs}`);
  }
  counter(atMs: number, queued: number, running: number): void {
    this.lines.push(`counter ${atMs} ${queued} ${running}`);
  }
  sharedFetch(host: string, hash: string, bytes: number, startMs: number, endMs: number, ok: boolean): void {
    this.lines.push(`fetch ${host} ${hash} ${bytes} ${startMs}-${endMs} ${ok}`);
  }
  end(): void {
    this.lines.push("end");
  }
}

describe("record batches (master thread → writer thread)", () => {
  it("replays every kind of record with its fields, inputs and texts", () => {
    const direct = new Log();
    const replayed = new Log();
    const encoder = new BatchEncoder();
    // The same calls go to a sink directly and through a batch.
    const both: TimelineSink = {
      begin: (i) => (direct.begin(i), encoder.extra({ kind: "begin", info: i })),
      opRun: (r) => (direct.opRun(r), encoder.run(r)),
      opSettled: (s) => (direct.opSettled(s), encoder.settled(s)),
      contextRun: (c) => (direct.contextRun(c), encoder.context(c)),
      instant: (i) => (direct.instant(i), i.track && encoder.track(i.track), encoder.extra({ kind: "instant", instant: i })),
      counter: (a, q, r) => (direct.counter(a, q, r), encoder.counter(a, q, r)),
      sharedFetch: (h, x, b, s, e, ok) => (direct.sharedFetch(h, x, b, s, e, ok), encoder.extra({ kind: "shared", host: h, hash: x, bytes: b, startMs: s, endMs: e, ok })),
      end: () => direct.end(),
    };
    const track: Track = { id: 0, host: "h", slot: 3, label: "h:3" };
    const run: OpRun = { track, opId: 7, nameIndex: 1, attempt: 2, startMs: 12.5, serviceUs: 40, waitUs: 900, outcome: "retried", final: false, payload: new Uint8Array([1, 2, 3]), input: null, error: null };
    both.begin({ workerNames: ["a", "b"], contextNames: [], startMs: 0, epochMs: 1 });
    both.instant({ name: "slave up", track, host: "h", atMs: 1, args: { pid: 9 } });
    both.opRun(run);
    both.opRun({ ...run, attempt: 3, outcome: "error", final: true, error: "it broke" });
    both.opSettled({ opId: 7, nameIndex: 1, run: { ...run, attempt: 3 }, ok: false, error: "it broke", payload: run.payload, input: null });
    both.opSettled({ opId: 8, nameIndex: 0, run: null, ok: false, error: "cancelled", payload: new Uint8Array(5000), input: null });
    both.contextRun({ track, seq: 2, nameIndex: 0, replay: true, startMs: 3, endMs: 4, error: null });
    both.counter(5, 10, 2);
    both.sharedFetch("h", "abc", 1024, 6, 7, true);
    both.end();
    const decoder = new BatchDecoder([replayed]);
    decoder.replay(encoder.take());
    decoder.end();
    // A large input travels as its picture, not its bytes.
    const expected = direct.lines.map((line) => line.replace(/\[(0 ){4999}0\]/, "[<5000 bytes>]"));
    expect(replayed.lines).to.deep.equal(expected);
  });
});
