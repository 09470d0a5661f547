// The agent's router with fake slave channels: frames for a slave leave as the raw bytes they came
// in, one corked batch per slave per chunk read; shared data for the agent is passed on chunk by
// chunk; the agent's own control messages are joined. No processes.
import { expect } from "chai";
import { FLAG_MORE, FrameError, FrameType, HEADER_BYTES, encodeFrame } from "../../core/protocol/frame.ts";
import { CONTROL_MESSAGE_BYTES, MasterRouter, type SlaveSink } from "../../remote-agent/router.ts";

class FakeSink implements SlaveSink {
  /** What happened, in order: "cork", "uncork", or the bytes written. */
  readonly events: Array<"cork" | "uncork" | Buffer> = [];
  corked = 0;
  write(bytes: Buffer): boolean {
    expect(this.corked, "written while corked").to.be.greaterThan(0);
    this.events.push(bytes);
    return true;
  }
  cork(): void {
    this.corked++;
    this.events.push("cork");
  }
  uncork(): void {
    this.corked--;
    this.events.push("uncork");
  }
  get written(): Buffer[] {
    return this.events.filter((e): e is Buffer => Buffer.isBuffer(e));
  }
}

function setup() {
  const sinks = new Map<number, FakeSink>([
    [1, new FakeSink()],
    [2, new FakeSink()],
  ]);
  const shared: Array<{ fetchId: number; flags: number; chunk: string }> = [];
  const control: Array<{ type: number; id: number; payload: Buffer }> = [];
  const router = new MasterRouter({
    slave: (id) => sinks.get(id),
    slaves: () => sinks.values(),
    sharedData: (fetchId, flags, chunk) => shared.push({ fetchId, flags, chunk: chunk.toString() }),
    control: (type, _flags, id, payload) => control.push({ type, id, payload: Buffer.from(payload) }),
  });
  return { router, sinks, shared, control };
}

describe("agent: the router of the master's frames", () => {
  it("a frame for a slave is written to it as the bytes it arrived in, its payload never decoded", () => {
    const t = setup();
    // Not a valid Op payload: the router does not look.
    const op = encodeFrame(FrameType.Op, 2, 99, Buffer.from("not decoded"));
    const chunk = Buffer.concat([op]);
    t.router.push(chunk);
    const [written] = t.sinks.get(2)!.written;
    expect(written!.equals(op)).to.equal(true);
    expect(written!.buffer, "a view of the chunk read, not a copy").to.equal(chunk.buffer);
    expect(t.sinks.get(1)!.written).to.have.length(0);
  });

  it("every slave is corked while one chunk is routed and uncorked after: one batch per slave per chunk", () => {
    const t = setup();
    const frames = [encodeFrame(FrameType.Op, 1, 1), encodeFrame(FrameType.Op, 2, 2), encodeFrame(FrameType.Op, 1, 3), encodeFrame(FrameType.Cancel, 1, 1)];
    t.router.push(Buffer.concat(frames));
    const one = t.sinks.get(1)!.events;
    expect(one[0]).to.equal("cork");
    expect(one.at(-1)).to.equal("uncork");
    expect(one.slice(1, -1).every((e) => Buffer.isBuffer(e)), "all three writes inside one cork").to.equal(true);
    expect(t.sinks.get(1)!.written.map((b) => b.readUInt32LE(12))).to.deep.equal([1, 3, 1]);
    expect(t.sinks.get(2)!.events.filter((e) => e === "cork")).to.have.length(1);
  });

  it("a frame split across two chunks reaches the slave whole, in the second chunk's batch", () => {
    const t = setup();
    const frame = encodeFrame(FrameType.Op, 1, 5, Buffer.alloc(100, 3));
    t.router.push(frame.subarray(0, 40));
    expect(t.sinks.get(1)!.written).to.have.length(0);
    t.router.push(frame.subarray(40));
    expect(Buffer.concat(t.sinks.get(1)!.written).equals(frame)).to.equal(true);
  });

  it("frames for a slave that is not running are dropped", () => {
    const t = setup();
    t.router.push(encodeFrame(FrameType.Op, 7, 1, Buffer.from("x")));
    expect(t.sinks.get(1)!.written.length + t.sinks.get(2)!.written.length).to.equal(0);
  });

  it("SharedData for the agent is passed on piece by piece as read, never joined (not even a frame spread over two reads)", () => {
    const t = setup();
    const bytes = Buffer.concat([encodeFrame(FrameType.SharedData, 0, 4, Buffer.from("abcdef"), FLAG_MORE), encodeFrame(FrameType.SharedData, 0, 4, Buffer.from("gh"))]);
    t.router.push(bytes.subarray(0, HEADER_BYTES + 2));
    t.router.push(bytes.subarray(HEADER_BYTES + 2));
    expect(t.shared).to.deep.equal([
      { fetchId: 4, flags: FLAG_MORE, chunk: "ab" },
      { fetchId: 4, flags: FLAG_MORE, chunk: "cdef" },
      { fetchId: 4, flags: 0, chunk: "gh" },
    ]);
  });

  it("a control message in several frames is joined and handed over once", () => {
    const t = setup();
    t.router.push(Buffer.concat([encodeFrame(FrameType.Config, 0, 0, Buffer.from("con"), FLAG_MORE), encodeFrame(FrameType.Config, 0, 0, Buffer.from("fig"))]));
    expect(t.control.map((c) => [c.type, c.payload.toString()])).to.deep.equal([[FrameType.Config, "config"]]);
  });

  it("a control message that never ends is refused past 64 MiB", () => {
    expect(CONTROL_MESSAGE_BYTES).to.equal(64 * 1024 * 1024);
    const t = setup();
    const frame = encodeFrame(FrameType.SharedFree, 0, 0, Buffer.alloc(1024 * 1024), FLAG_MORE);
    for (let i = 0; i < 64; i++) t.router.push(frame);
    expect(() => t.router.push(frame)).to.throw(FrameError, /a SharedFree message for slave 0, id 0 would exceed 67108864 bytes/);
  });

  it("a stream that is not frames throws FrameError, and the slaves are uncorked all the same", () => {
    const t = setup();
    expect(() => t.router.push(Buffer.concat([encodeFrame(FrameType.Op, 1, 1), Buffer.from("Last login: …\n")]))).to.throw(FrameError, /not a frame/);
    for (const sink of t.sinks.values()) expect(sink.corked).to.equal(0);
    expect(t.sinks.get(1)!.written, "the frame before the garbage went through").to.have.length(1);
    expect(t.sinks.get(1)!.written[0]!.length).to.equal(HEADER_BYTES);
  });
});
