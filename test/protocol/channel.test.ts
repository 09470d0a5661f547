import { expect } from "chai";
import { ChannelClosedError, FrameChannel, type IncomingFrame } from "../../core/protocol/channel.ts";
import { FLAG_ERROR, FLAG_MORE, FrameError, FrameSplitter, FrameType, HEADER_BYTES, encodeFrame } from "../../core/protocol/frame.ts";
import { memoryTransportPair, type MemoryEnd } from "./memory-transport.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Resolves with the channel's close error (undefined for a clean end); fails after `ms`. */
function closed(channel: FrameChannel, ms = 2000): Promise<Error | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the channel to ${channel.peer} did not close within ${ms} ms`)), ms);
    channel.onClose((error) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

/** Collects frames; `until(n)` resolves once n have arrived (fails after `ms`). */
function collect(channel: FrameChannel): { frames: IncomingFrame[]; until(n: number, ms?: number): Promise<IncomingFrame[]> } {
  const frames: IncomingFrame[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  channel.onFrame((frame) => {
    frames.push(frame);
    if (waiter && frames.length >= waiter.n) waiter.resolve();
  });
  return {
    frames,
    until: (n, ms = 2000) =>
      new Promise((resolve, reject) => {
        if (frames.length >= n) return resolve(frames);
        const timer = setTimeout(() => reject(new Error(`got ${frames.length} of ${n} frames within ${ms} ms`)), ms);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(frames);
          },
        };
      }),
  };
}

function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 10)) & 0xff;
  return bytes;
}

/** Splits what an end wrote back into frames (at most maxPayload each). */
function framesWritten(end: MemoryEnd, maxPayload: number): Array<{ type: number; flags: number; slave: number; id: number; length: number }> {
  const frames: Array<{ type: number; flags: number; slave: number; id: number; length: number }> = [];
  const splitter = new FrameSplitter((type, flags, slave, id, raw) => frames.push({ type, flags, slave, id, length: raw.length - HEADER_BYTES }), maxPayload);
  for (const chunk of end.writes) splitter.push(chunk);
  expect(splitter.bufferedBytes).to.equal(0);
  return frames;
}

function pair(options: { maxPayload?: number; highWaterMark?: number } = {}) {
  const [masterEnd, agentEnd] = memoryTransportPair({ a: { highWaterMark: options.highWaterMark } });
  const master = new FrameChannel(masterEnd, { peer: "agent on h1", maxPayload: options.maxPayload });
  const agent = new FrameChannel(agentEnd, { peer: "master", maxPayload: options.maxPayload });
  return { masterEnd, agentEnd, master, agent };
}

describe("FrameChannel over an in-memory transport", () => {
  it("messages sent in one tick arrive in order, and leave in one write", async () => {
    const { master, agent, masterEnd } = pair();
    const received = collect(agent);
    const sent: Array<[number, number, number, string]> = [];
    for (let i = 0; i < 200; i++) {
      const type = i % 2 ? FrameType.Op : FrameType.Context;
      const payload = i % 5 === 0 ? "" : `message ${i} ${"x".repeat(i)}`;
      master.send(type, i % 7, i, payload ? Buffer.from(payload) : undefined, i % 3 === 0 ? FLAG_ERROR : 0);
      sent.push([type, i % 7, i, payload]);
    }
    expect(masterEnd.writes, "nothing is written before the tick ends").to.have.length(0);
    await received.until(200);
    expect(received.frames.map((f) => [f.type, f.slave, f.id, f.payload.toString()])).to.deep.equal(sent);
    expect(received.frames.map((f) => f.flags)).to.deep.equal(sent.map((_, i) => (i % 3 === 0 ? FLAG_ERROR : 0)));
    expect(masterEnd.writes).to.have.length(1);
  });

  it("messages sent in both directions at once arrive on both sides", async () => {
    const { master, agent } = pair();
    const atAgent = collect(agent);
    const atMaster = collect(master);
    for (let i = 0; i < 50; i++) {
      master.send(FrameType.Op, 1, i, Buffer.from(`op ${i}`));
      agent.send(FrameType.Result, 1, i, Buffer.from(`result ${i}`));
    }
    await Promise.all([atAgent.until(50), atMaster.until(50)]);
    expect(atAgent.frames.map((f) => f.payload.toString())).to.deep.equal(Array.from({ length: 50 }, (_, i) => `op ${i}`));
    expect(atMaster.frames.map((f) => f.payload.toString())).to.deep.equal(Array.from({ length: 50 }, (_, i) => `result ${i}`));
  });

  it("a 5 MiB payload with maxPayload 64 KiB travels as 64 KiB frames and arrives whole", async () => {
    const maxPayload = 64 * KiB;
    const { master, agent, masterEnd } = pair({ maxPayload });
    const received = collect(agent);
    const payload = pattern(5 * MiB);
    master.send(FrameType.SharedData, 0, 9, payload, FLAG_ERROR);
    master.send(FrameType.Heartbeat, 0, 10);
    await received.until(2, 5000);
    expect(received.frames).to.have.length(2);
    const [big, after] = received.frames as [IncomingFrame, IncomingFrame];
    expect([big.type, big.slave, big.id]).to.deep.equal([FrameType.SharedData, 0, 9]);
    expect(big.flags & FLAG_ERROR).to.equal(FLAG_ERROR);
    expect(big.payload.length).to.equal(payload.length);
    expect(big.payload.equals(payload)).to.equal(true);
    expect(after.type).to.equal(FrameType.Heartbeat);

    const wire = framesWritten(masterEnd, maxPayload);
    expect(wire).to.have.length(80 + 1);
    expect(wire.slice(0, 80).every((f) => f.length === maxPayload)).to.equal(true);
    expect(wire.slice(0, 79).every((f) => f.flags & FLAG_MORE)).to.equal(true);
    expect(wire[79]!.flags & FLAG_MORE).to.equal(0);
  });

  it("sendStreaming waits for drain when write() returns false, and delivers everything", async () => {
    const maxPayload = 64 * KiB;
    const highWaterMark = 128 * KiB;
    const { master, agent, masterEnd } = pair({ maxPayload, highWaterMark });
    const received = collect(agent);
    const payload = pattern(5 * MiB + 123);
    await master.sendStreaming(FrameType.SharedData, 0, 4, payload);
    expect(masterEnd.refusedWrites, "the transport reported backpressure").to.be.greaterThan(0);
    // Had it not waited, all 5 MiB would have been in flight at once.
    expect(masterEnd.maxInFlight).to.be.at.most(highWaterMark + maxPayload + HEADER_BYTES);
    await received.until(1, 5000);
    expect(received.frames[0]!.payload.equals(payload)).to.equal(true);
    expect(framesWritten(masterEnd, maxPayload)).to.have.length(Math.ceil(payload.length / maxPayload));
  });

  it("sendStreaming and send interleave without mixing up messages", async () => {
    const maxPayload = 16 * KiB;
    const { master, agent } = pair({ maxPayload, highWaterMark: 32 * KiB });
    const received = collect(agent);
    const big = pattern(1 * MiB);
    const streaming = master.sendStreaming(FrameType.SharedData, 0, 1, big);
    for (let i = 0; i < 20; i++) master.send(FrameType.Log, 0, i, Buffer.from(`line ${i}`));
    await streaming;
    await received.until(21);
    const data = received.frames.filter((f) => f.type === FrameType.SharedData);
    expect(data).to.have.length(1);
    expect(data[0]!.payload.equals(big)).to.equal(true);
    expect(received.frames.filter((f) => f.type === FrameType.Log).map((f) => f.payload.toString())).to.deep.equal(Array.from({ length: 20 }, (_, i) => `line ${i}`));
  });

  it("sendStreaming rejects with ChannelClosedError when the channel closes while it waits for drain", async () => {
    const { master, masterEnd } = pair({ maxPayload: 1 * KiB, highWaterMark: 1 * KiB });
    const streaming = master.sendStreaming(FrameType.SharedData, 0, 1, pattern(100 * KiB));
    masterEnd.hangUpNow();
    const error = await streaming.then(
      () => expect.fail("sendStreaming resolved"),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ChannelClosedError);
    expect((error as Error).message).to.include("agent on h1");
    expect(masterEnd.writes.length).to.be.lessThan(100);
  });

  it("close() sends what is queued first, then ends the stream for both sides", async () => {
    const { master, agent } = pair();
    const received = collect(agent);
    const agentClosed = closed(agent);
    master.send(FrameType.Kill, 0, 1);
    master.send(FrameType.Kill, 0, 2);
    master.close();
    expect(master.isClosed).to.equal(true);
    expect(await agentClosed).to.equal(undefined);
    expect(received.frames.map((f) => f.id)).to.deep.equal([1, 2]);
  });

  it("a clean end of the stream between frames closes without an error", async () => {
    const { master, masterEnd } = pair();
    const received = collect(master);
    masterEnd.inject(encodeFrame(FrameType.Heartbeat, 0, 0));
    masterEnd.hangUp();
    expect(await closed(master)).to.equal(undefined);
    expect(received.frames).to.have.length(1);
  });

  it("unjoined types arrive piece by piece as read (FLAG_MORE until the message's last), other types whole", async () => {
    const [masterEnd, agentEnd] = memoryTransportPair();
    const master = new FrameChannel(masterEnd, { peer: "agent", maxPayload: 64 * KiB });
    const slave = new FrameChannel(agentEnd, { peer: "master", maxPayload: 64 * KiB, unjoined: [FrameType.SharedData] });
    const received = collect(slave);
    const value = pattern(200 * KiB);
    await master.sendStreaming(FrameType.SharedData, 1, 5, value);
    master.send(FrameType.Result, 1, 6, pattern(100 * KiB));
    master.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shared = received.frames.filter((f) => f.type === FrameType.SharedData);
    expect(shared.length, "at least one piece per 64 KiB frame").to.be.at.least(4);
    expect(shared.slice(0, -1).every((f) => f.flags & FLAG_MORE)).to.equal(true);
    expect(shared.at(-1)!.flags & FLAG_MORE).to.equal(0);
    expect(Buffer.concat(shared.map((f) => f.payload)).equals(value)).to.equal(true);
    const results = received.frames.filter((f) => f.type === FrameType.Result);
    expect(results).to.have.length(1);
    expect(results[0]!.payload.equals(pattern(100 * KiB))).to.equal(true);
  });

  describe("corrupt input", () => {
    it("a corrupt frame closes the channel; the close error names the peer; send() afterwards does not throw", async () => {
      const { master, masterEnd, agent } = pair();
      const received = collect(master);
      const agentClosed = closed(agent);
      masterEnd.inject(encodeFrame(FrameType.Log, 0, 1, Buffer.from("before")));
      masterEnd.inject(Buffer.from("Last login: Mon Jan  1 00:00:00 2024 from 10.0.0.1\n"));
      masterEnd.inject(encodeFrame(FrameType.Log, 0, 2, Buffer.from("after")));
      const error = await closed(master);
      expect(error).to.be.instanceOf(FrameError);
      expect(error!.message).to.match(/^agent on h1: bad frame start byte 0x4c \('L'\): the peer wrote something that is not a frame/);
      expect(received.frames.map((f) => f.payload.toString()), "frames before the garbage arrive, none after").to.deep.equal(["before"]);
      expect(master.isClosed).to.equal(true);

      const writes = masterEnd.writes.length;
      expect(() => master.send(FrameType.Op, 1, 1, Buffer.from("late"))).to.not.throw();
      expect(() => master.sendRaw(encodeFrame(FrameType.Op, 1, 2))).to.not.throw();
      expect(() => master.flush()).to.not.throw();
      expect(() => master.close()).to.not.throw();
      await new Promise((resolve) => setImmediate(resolve));
      expect(masterEnd.writes.length, "nothing is written after the close").to.equal(writes);

      // The transport was closed: the other side sees the end.
      expect(await agentClosed).to.equal(undefined);
      // A listener added after the close still learns why.
      expect(await closed(master)).to.equal(error);
    });

    it("an unknown frame type closes the channel with a FrameError naming the peer and the type", async () => {
      const { master, masterEnd } = pair();
      const bytes = encodeFrame(FrameType.Log, 0, 0);
      bytes[1] = 99;
      masterEnd.inject(bytes);
      const error = await closed(master);
      expect(error).to.be.instanceOf(FrameError);
      expect(error!.message).to.equal("agent on h1: unknown frame type 99");
    });

    it("an oversized frame closes the channel as soon as its header arrives", async () => {
      const { master, masterEnd } = pair({ maxPayload: 64 * KiB });
      const header = encodeFrame(FrameType.Result, 1, 1);
      header.writeUInt32LE(64 * KiB + 1, 4);
      masterEnd.inject(header);
      const error = await closed(master);
      expect(error).to.be.instanceOf(FrameError);
      expect(error!.message).to.match(/^agent on h1: oversized frame/);
    });

    it("a chain of FLAG_MORE frames beyond maxMessageBytes closes the channel at once, naming the peer and the limit", async () => {
      const [masterEnd] = memoryTransportPair();
      const master = new FrameChannel(masterEnd, { peer: "agent on h1", maxMessageBytes: 64 * KiB });
      const received = collect(master);
      // A forged op that never ends: 16 KiB frames with FLAG_MORE, forever (here: 5 of them).
      for (let i = 0; i < 5; i++) masterEnd.inject(encodeFrame(FrameType.Result, 3, 7, Buffer.alloc(16 * KiB), FLAG_MORE));
      masterEnd.inject(encodeFrame(FrameType.Log, 0, 1, Buffer.from("after")));
      const error = await closed(master);
      expect(error).to.be.instanceOf(FrameError);
      expect((error as FrameError).corrupt).to.equal(true);
      expect(error!.message).to.equal(
        `agent on h1: a Result message for slave 3, id 7 would exceed ${64 * KiB} bytes (${80 * KiB} so far), the limit for one message: the peer sent a chain of frames that does not end`,
      );
      expect(received.frames, "nothing after the refused frame").to.deep.equal([]);
    });

    it("a stream that ends in the middle of a frame gives a 'truncated frame' close error", async () => {
      const { master, masterEnd } = pair();
      const received = collect(master);
      const frame = encodeFrame(FrameType.Result, 1, 1, pattern(100));
      masterEnd.inject(encodeFrame(FrameType.Heartbeat, 0, 0));
      masterEnd.inject(frame.subarray(0, 20));
      masterEnd.hangUp();
      const error = await closed(master);
      expect(error).to.be.instanceOf(FrameError);
      expect(error!.message).to.match(/^agent on h1: truncated frame/);
      expect(error!.message).to.include("20 bytes in");
      expect(received.frames).to.have.length(1);
    });

    it("a stream that ends inside a header is truncated too", async () => {
      const { master, masterEnd } = pair();
      masterEnd.inject(encodeFrame(FrameType.Heartbeat, 0, 0).subarray(0, 7));
      masterEnd.hangUp();
      expect((await closed(master))?.message).to.match(/^agent on h1: truncated frame.*7 bytes in/);
    });

    it("a frame listener that throws closes the channel with an error naming the peer", async () => {
      const { master, masterEnd } = pair();
      master.onFrame(() => {
        throw new Error("listener broke");
      });
      masterEnd.inject(encodeFrame(FrameType.Heartbeat, 0, 0));
      const error = await closed(master);
      expect(error!.message).to.equal("agent on h1: frame handler failed: listener broke");
    });

    it("no frame is delivered after fail() inside the frame listener", async () => {
      const { master, masterEnd } = pair();
      const ids: number[] = [];
      master.onFrame((frame) => {
        ids.push(frame.id);
        master.fail(new Error("the first frame was wrong"));
      });
      masterEnd.inject(Buffer.concat([encodeFrame(FrameType.Log, 0, 1), encodeFrame(FrameType.Log, 0, 2), encodeFrame(FrameType.Log, 0, 3)]));
      await closed(master);
      expect(ids).to.deep.equal([1]);
    });

    it("a peer that writes 'hi\\n' and waits is reported at once", async () => {
      const { master, masterEnd } = pair();
      masterEnd.inject(Buffer.from("hi\n"));
      const error = await closed(master, 200);
      expect(error!.message).to.match(/^agent on h1: .*not a frame/);
    });

    it("a stream that fails names the peer in the close error", async () => {
      const { master, masterEnd } = pair();
      masterEnd.inject(encodeFrame(FrameType.Result, 1, 1, pattern(100)).subarray(0, 20));
      masterEnd.hangUp(new Error("read ECONNRESET"));
      const error = await closed(master);
      expect(error!.message).to.include("agent on h1");
      expect(error!.message).to.include("ECONNRESET");
    });
  });
});
