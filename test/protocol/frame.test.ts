import { expect } from "chai";
import { seededRandom } from "../helpers/seeded-random.ts";
import {
  DEFAULT_MAX_HELD_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PAYLOAD,
  FLAG_ERROR,
  FLAG_MORE,
  FRAME_MAGIC,
  FrameError,
  FrameSplitter,
  FrameType,
  HEADER_BYTES,
  Reassembler,
  encodeFrame,
  encodeMessage,
} from "../../core/protocol/frame.ts";

interface SplitFrame {
  type: number;
  flags: number;
  slave: number;
  id: number;
  payload: string; // hex, so that deep.equal compares bytes
}

/** Pushes each chunk into a fresh splitter and returns the frames it produced (copied). */
function split(chunks: Buffer[], maxPayload?: number): SplitFrame[] {
  const frames: SplitFrame[] = [];
  const splitter = new FrameSplitter((type, flags, slave, id, raw) => {
    if (raw.length !== HEADER_BYTES + raw.readUInt32LE(4)) expect.fail(`raw frame of ${raw.length} bytes, header says ${raw.readUInt32LE(4)} + ${HEADER_BYTES}`);
    frames.push({ type, flags, slave, id, payload: raw.subarray(HEADER_BYTES).toString("hex") });
  }, maxPayload);
  for (const chunk of chunks) splitter.push(chunk);
  if (splitter.bufferedBytes !== 0) expect.fail(`${splitter.bufferedBytes} bytes left over`);
  return frames;
}

function pushExpectingError(bytes: Buffer, maxPayload?: number): FrameError {
  const splitter = new FrameSplitter(() => {}, maxPayload);
  try {
    splitter.push(bytes);
  } catch (error) {
    expect(error).to.be.instanceOf(FrameError);
    return error as FrameError;
  }
  return expect.fail("push() did not throw");
}

const TYPES = Object.values(FrameType);
const LAST_TYPE = Math.max(...TYPES);

/** A stream of varied frames: empty payloads, 1-byte, header-sized, a few KiB; every type. */
function sampleStream(): { bytes: Buffer; frames: SplitFrame[] } {
  const random = seededRandom(7);
  const frames: SplitFrame[] = [];
  const parts: Buffer[] = [];
  const sizes = [0, 1, 2, 15, 16, 17, 31, 100, 0, 700, 5, 0, 64];
  for (let i = 0; i < 40; i++) {
    const type = TYPES[i % TYPES.length]!;
    const payload = Buffer.alloc(sizes[i % sizes.length]!);
    for (let j = 0; j < payload.length; j++) payload[j] = Math.floor(random() * 256);
    // Payloads that contain the magic byte and look like headers must not confuse the splitter.
    if (payload.length >= 16) payload[0] = FRAME_MAGIC;
    const slave = i * 7919;
    const id = 0xffffffff - i;
    const flags = i % 3 === 0 ? FLAG_ERROR : 0;
    parts.push(encodeFrame(type, slave, id, payload, flags));
    frames.push({ type, flags, slave, id, payload: payload.toString("hex") });
  }
  return { bytes: Buffer.concat(parts), frames };
}

describe("frame", () => {
  describe("encodeFrame + FrameSplitter", () => {
    it("a frame round-trips with its type, flags, slave, id and payload", () => {
      const payload = Buffer.from("hello frame");
      const bytes = encodeFrame(FrameType.Result, 12, 345, payload, FLAG_ERROR);
      expect(bytes.length).to.equal(HEADER_BYTES + payload.length);
      expect(bytes[0]).to.equal(FRAME_MAGIC);
      expect(split([bytes])).to.deep.equal([{ type: FrameType.Result, flags: FLAG_ERROR, slave: 12, id: 345, payload: payload.toString("hex") }]);
    });

    it("a frame without payload, and the largest slave and id values", () => {
      const bytes = encodeFrame(FrameType.Heartbeat, 0xffffffff, 0xffffffff);
      expect(bytes.length).to.equal(HEADER_BYTES);
      expect(split([bytes])).to.deep.equal([{ type: FrameType.Heartbeat, flags: 0, slave: 0xffffffff, id: 0xffffffff, payload: "" }]);
    });

    it("a negative id is written as its unsigned 32-bit value", () => {
      expect(split([encodeFrame(FrameType.Op, 1, -1)])[0]!.id).to.equal(0xffffffff);
    });

    it("many frames in one chunk come out in order", () => {
      const { bytes, frames } = sampleStream();
      expect(split([bytes])).to.deep.equal(frames);
    });

    it("split into two chunks at EVERY byte boundary, the same frames come out", () => {
      const { bytes, frames } = sampleStream();
      const expected = JSON.stringify(frames);
      for (let at = 0; at <= bytes.length; at++) {
        const got = split([bytes.subarray(0, at), bytes.subarray(at)]);
        if (JSON.stringify(got) !== expected) expect(got, `split at ${at}`).to.deep.equal(frames);
      }
    });

    it("fed one byte at a time (every boundary at once), the same frames come out", () => {
      const { bytes, frames } = sampleStream();
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
      expect(split(chunks)).to.deep.equal(frames);
    });

    it("fed in 500 random chunkings (including empty chunks), the same frames come out", () => {
      const { bytes, frames } = sampleStream();
      for (let seed = 1; seed <= 500; seed++) {
        const random = seededRandom(seed);
        const chunks: Buffer[] = [];
        let at = 0;
        while (at < bytes.length) {
          const size = random() < 0.1 ? 0 : Math.ceil(random() ** 3 * 200);
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        expect(split(chunks), `seed ${seed}`).to.deep.equal(frames);
      }
    });

    it("an incomplete frame stays buffered and is reported by bufferedBytes", () => {
      const frame = encodeFrame(FrameType.Log, 0, 1, Buffer.from("partial line"));
      const splitter = new FrameSplitter(() => expect.fail("no frame is complete yet"));
      splitter.push(frame.subarray(0, 5));
      expect(splitter.bufferedBytes).to.equal(5);
      splitter.push(frame.subarray(5, HEADER_BYTES + 3));
      expect(splitter.bufferedBytes).to.equal(HEADER_BYTES + 3);
    });
  });

  describe("corrupt input", () => {
    it("bad magic byte: FrameError saying the peer wrote something that is not a frame, with the char", () => {
      const error = pushExpectingError(Buffer.from("Welcome to Ubuntu 22.04.3 LTS\n"));
      expect(error.name).to.equal("FrameError");
      expect(error.message).to.include("not a frame");
      expect(error.message).to.include("0x57");
      expect(error.message).to.include("'W'");
    });

    it("bad magic byte that is not printable: shows the hex value only", () => {
      const bytes = Buffer.alloc(HEADER_BYTES, 0);
      const error = pushExpectingError(bytes);
      expect(error.message).to.include("0x00");
      expect(error.message).to.include("not a frame");
      expect(error.message).to.not.include("'");
      expect(pushExpectingError(Buffer.alloc(HEADER_BYTES, 0x7f)).message).to.not.include("'");
    });

    it("bad magic byte after a good frame, in a later chunk", () => {
      const splitter = new FrameSplitter(() => {});
      splitter.push(encodeFrame(FrameType.Heartbeat, 0, 0));
      expect(() => splitter.push(Buffer.from("npm WARN deprecated something"))).to.throw(FrameError, /'n'.*not a frame/);
    });

    it("unknown frame type: FrameError naming the type", () => {
      for (const type of [0, LAST_TYPE + 1, 0x7f, 0xff]) {
        const bytes = encodeFrame(FrameType.Log, 0, 0);
        bytes[1] = type;
        const error = pushExpectingError(bytes);
        expect(error.message).to.match(new RegExp(`unknown frame type ${type}\\b`));
      }
    });

    it("every known type is accepted", () => {
      for (const type of TYPES) expect(split([encodeFrame(type, 0, 0)])[0]!.type).to.equal(type);
    });

    it("declared length over the limit: FrameError 'oversized', before the payload arrives", () => {
      const header = encodeFrame(FrameType.Result, 1, 1);
      header.writeUInt32LE(DEFAULT_MAX_PAYLOAD + 1, 4);
      const error = pushExpectingError(header);
      expect(error.message).to.include("oversized");
      expect(error.message).to.include(String(DEFAULT_MAX_PAYLOAD + 1));

      header.writeUInt32LE(0xffffffff, 4);
      expect(pushExpectingError(header).message).to.include("oversized");
    });

    it("a custom limit: exactly the limit passes, one byte more is oversized", () => {
      const limit = 100;
      expect(split([encodeFrame(FrameType.Log, 0, 0, Buffer.alloc(limit, 1))], limit)).to.have.length(1);
      const error = pushExpectingError(encodeFrame(FrameType.Log, 0, 0, Buffer.alloc(limit + 1, 1)), limit);
      expect(error.message).to.include("oversized");
      expect(error.message).to.include(`limit ${limit}`);
    });

    describe("checkHeader", () => {
      /** A splitter that refuses frames not from slave 5; records each header it was shown. */
      const checked = () => {
        const headers: number[][] = [];
        const frames: number[] = [];
        const splitter = new FrameSplitter(
          (_type, _flags, _slave, id) => frames.push(id),
          undefined,
          (type, flags, slave, id, length) => {
            headers.push([type, flags, slave, id, length]);
            if (slave !== 5) throw new FrameError(`frame from slave ${slave}`);
          },
        );
        return { splitter, headers, frames };
      };

      it("sees each header's fields and payload length; accepted frames come out", () => {
        const { splitter, headers, frames } = checked();
        splitter.push(Buffer.concat([encodeFrame(FrameType.Result, 5, 7, Buffer.from("abc"), FLAG_ERROR), encodeFrame(FrameType.ContextAck, 5, 8)]));
        expect(frames).to.deep.equal([7, 8]);
        expect(headers).to.deep.include([FrameType.Result, FLAG_ERROR, 5, 7, 3]);
        expect(headers).to.deep.include([FrameType.ContextAck, 0, 5, 8, 0]);
      });

      it("refuses a header before its payload arrives (a bogus length cannot make it wait)", () => {
        const { splitter, frames } = checked();
        const header = encodeFrame(FrameType.Result, 0, 1);
        header.writeUInt32LE(1000, 4);
        expect(() => splitter.push(Buffer.concat([header, Buffer.from([1, 2, 3])]))).to.throw(FrameError, "frame from slave 0");
        expect(frames).to.deep.equal([]);
      });

      it("refuses a header that arrives in pieces, once it is whole", () => {
        const { splitter, frames } = checked();
        const bytes = Buffer.concat([encodeFrame(FrameType.Result, 5, 1), encodeFrame(FrameType.Result, 9, 2, Buffer.alloc(50))]);
        splitter.push(bytes.subarray(0, HEADER_BYTES + 10));
        expect(() => splitter.push(bytes.subarray(HEADER_BYTES + 10, HEADER_BYTES + 20))).to.throw(FrameError, "frame from slave 9");
        expect(frames).to.deep.equal([1]);
      });
    });
  });

  describe("frames taken in pieces (PieceSink)", () => {
    type Event = { kind: "frame" | "piece"; type: number; flags: number; slave: number; id: number; bytes: string };
    /** What a splitter gives for `chunks` when it wants SharedData frames in pieces: pieces of one frame joined back. */
    const run = (chunks: Buffer[]) => {
      const events: Event[] = [];
      const pieces: Buffer[] = [];
      const splitter = new FrameSplitter(
        (type, flags, slave, id, raw) => events.push({ kind: "frame", type, flags, slave, id, bytes: raw.subarray(HEADER_BYTES).toString("hex") }),
        undefined,
        undefined,
        {
          wants: (type) => type === FrameType.SharedData,
          onPiece: (type, flags, slave, id, piece) => {
            pieces.push(piece);
            const last = events.at(-1);
            // Pieces are joined back while they say more follow (as a Reassembler joins a message's frames).
            if (last?.kind === "piece" && last.id === id && last.flags & FLAG_MORE) {
              last.bytes += piece.toString("hex");
              last.flags = flags;
            } else events.push({ kind: "piece", type, flags, slave, id, bytes: piece.toString("hex") });
          },
        },
      );
      for (const chunk of chunks) splitter.push(chunk);
      return { events, pieces, buffered: splitter.bufferedBytes };
    };
    const payload = (size: number, seed: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * seed + 7) & 0xff));
    const stream = [
      encodeFrame(FrameType.Result, 1, 1, payload(40, 3)),
      encodeFrame(FrameType.SharedData, 2, 9, payload(5000, 5), FLAG_MORE),
      encodeFrame(FrameType.SharedData, 2, 9, payload(0, 1)),
      encodeFrame(FrameType.Log, 0, 3, payload(17, 11)),
      encodeFrame(FrameType.SharedData, 3, 10, payload(300, 13), FLAG_ERROR),
      encodeFrame(FrameType.Op, 4, 4, payload(1, 2)),
    ];
    const bytes = Buffer.concat(stream);
    const expected: Event[] = [
      { kind: "frame", type: FrameType.Result, flags: 0, slave: 1, id: 1, bytes: payload(40, 3).toString("hex") },
      // Two frames of one message (the second empty): their pieces read as one message.
      { kind: "piece", type: FrameType.SharedData, flags: 0, slave: 2, id: 9, bytes: payload(5000, 5).toString("hex") },
      { kind: "frame", type: FrameType.Log, flags: 0, slave: 0, id: 3, bytes: payload(17, 11).toString("hex") },
      { kind: "piece", type: FrameType.SharedData, flags: FLAG_ERROR, slave: 3, id: 10, bytes: payload(300, 13).toString("hex") },
      { kind: "frame", type: FrameType.Op, flags: 0, slave: 4, id: 4, bytes: payload(1, 2).toString("hex") },
    ];

    it("wanted frames come as pieces in order among whole frames, whatever the chunking (every split point, 500 random)", () => {
      expect(run([bytes]).events).to.deep.equal(expected);
      for (let at = 0; at <= bytes.length; at += 7) expect(run([bytes.subarray(0, at), bytes.subarray(at)]).events, `cut at ${at}`).to.deep.equal(expected);
      const random = seededRandom(11);
      for (let seed = 0; seed < 500; seed++) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; ) {
          const size = Math.floor(random() * 900);
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        const result = run(chunks);
        expect(result.events, `chunking ${seed}`).to.deep.equal(expected);
        expect(result.buffered).to.equal(0);
      }
    });

    it("pieces are views of the chunks read (never joined copies); each but a frame's last carries FLAG_MORE", () => {
      const frame = encodeFrame(FrameType.SharedData, 2, 9, payload(3000, 5));
      const chunks = [frame.subarray(0, 1000), frame.subarray(1000, 2000), frame.subarray(2000)];
      const flags: number[] = [];
      const seen: Buffer[] = [];
      const splitter = new FrameSplitter(() => expect.fail("no whole frame"), undefined, undefined, {
        wants: () => true,
        onPiece: (_type, f, _slave, _id, piece) => {
          flags.push(f);
          seen.push(piece);
        },
      });
      for (const chunk of chunks) splitter.push(chunk);
      expect(flags).to.deep.equal([FLAG_MORE, FLAG_MORE, 0]);
      expect(seen.map((piece) => piece.length)).to.deep.equal([1000 - HEADER_BYTES, 1000, 1000 + HEADER_BYTES]);
      for (const piece of seen) expect(piece.buffer).to.equal(frame.buffer);
    });

    it("bufferedBytes counts the part of a streamed frame read so far; the header check and corruption checks still apply", () => {
      const frame = encodeFrame(FrameType.SharedData, 2, 9, payload(3000, 5));
      const splitter = new FrameSplitter(() => {}, undefined, undefined, { wants: () => true, onPiece: () => {} });
      splitter.push(frame.subarray(0, 1000));
      expect(splitter.bufferedBytes).to.equal(1000);
      splitter.push(frame.subarray(1000));
      expect(splitter.bufferedBytes).to.equal(0);
      expect(() => splitter.push(Buffer.from("oops"))).to.throw(FrameError, /not a frame/);
      const refusing = new FrameSplitter(() => {}, 100, undefined, { wants: () => true, onPiece: () => expect.fail("no piece of an oversized frame") });
      expect(() => refusing.push(frame.subarray(0, HEADER_BYTES))).to.throw(FrameError, /oversized frame: 3000 bytes, limit 100/);
    });
  });

  describe("encodeMessage + Reassembler", () => {
    const payloadOf = (size: number, seed: number): Buffer => {
      const random = seededRandom(seed);
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = Math.floor(random() * 256);
      return bytes;
    };

    it("a payload that fits is one frame without FLAG_MORE", () => {
      const frames = encodeMessage(FrameType.Result, 1, 2, Buffer.alloc(100), FLAG_ERROR, 100);
      expect(frames).to.have.length(1);
      expect(split(frames, 100)[0]!.flags).to.equal(FLAG_ERROR);
    });

    it("a larger payload is split into FLAG_MORE frames of at most maxPayload, and joined back", () => {
      const maxPayload = 1000;
      for (const size of [1001, 1999, 2000, 2001, 10_500]) {
        const payload = payloadOf(size, size);
        const frames = encodeMessage(FrameType.SharedData, 3, 77, payload, FLAG_ERROR, maxPayload);
        expect(frames, `size ${size}`).to.have.length(Math.ceil(size / maxPayload));
        const split_ = split(frames, maxPayload);
        split_.forEach((frame, i) => {
          const last = i === split_.length - 1;
          expect(frame.payload.length / 2).to.be.at.most(maxPayload).and.at.least(1);
          expect(frame.flags & FLAG_MORE, `frame ${i} of ${split_.length}`).to.equal(last ? 0 : FLAG_MORE);
          expect(frame.flags & FLAG_ERROR).to.equal(FLAG_ERROR);
          expect([frame.type, frame.slave, frame.id]).to.deep.equal([FrameType.SharedData, 3, 77]);
        });

        const reassembler = new Reassembler();
        const results: Buffer[] = [];
        for (const frame of split_) {
          const whole = reassembler.add(frame.type, frame.flags, frame.slave, frame.id, Buffer.from(frame.payload, "hex"));
          if (whole) results.push(whole);
        }
        expect(results).to.have.length(1);
        expect(results[0]!.equals(payload), `size ${size}`).to.equal(true);
      }
    });

    it("chunked messages interleaved with frames of other slaves and ids are joined separately", () => {
      const maxPayload = 64;
      const a = payloadOf(300, 1); // slave 1, id 5
      const b = payloadOf(200, 2); // slave 2, id 5 (same id, other slave)
      const c = payloadOf(130, 3); // slave 1, id 6 (same slave, other id)
      const d = payloadOf(10, 4); // slave 1, id 5 but another type: a single frame
      const streams = [
        encodeMessage(FrameType.SharedData, 1, 5, a, 0, maxPayload),
        encodeMessage(FrameType.SharedData, 2, 5, b, 0, maxPayload),
        encodeMessage(FrameType.SharedData, 1, 6, c, 0, maxPayload),
        encodeMessage(FrameType.Log, 1, 5, d, 0, maxPayload),
      ];
      // Round robin: one frame of each message in turn.
      const interleaved: Buffer[] = [];
      for (let i = 0; streams.some((s) => i < s.length); i++) for (const s of streams) if (i < s.length) interleaved.push(s[i]!);

      const reassembler = new Reassembler();
      const done = new Map<string, Buffer>();
      for (const frame of split(interleaved, maxPayload)) {
        const whole = reassembler.add(frame.type, frame.flags, frame.slave, frame.id, Buffer.from(frame.payload, "hex"));
        if (whole) done.set(`${frame.type}:${frame.slave}:${frame.id}`, Buffer.from(whole));
      }
      expect(done.size).to.equal(4);
      expect(done.get(`${FrameType.SharedData}:1:5`)!.equals(a)).to.equal(true);
      expect(done.get(`${FrameType.SharedData}:2:5`)!.equals(b)).to.equal(true);
      expect(done.get(`${FrameType.SharedData}:1:6`)!.equals(c)).to.equal(true);
      expect(done.get(`${FrameType.Log}:1:5`)!.equals(d)).to.equal(true);
    });

    describe("limits on what is held for unfinished messages", () => {
      /** Feeds `frames` to `reassembler`; returns the FrameError it threw, or fails. */
      const expectRefused = (reassembler: Reassembler, frames: Array<[number, number, number, number, Buffer]>): FrameError => {
        try {
          for (const frame of frames) reassembler.add(...frame);
        } catch (error) {
          expect(error).to.be.instanceOf(FrameError);
          expect((error as FrameError).corrupt).to.equal(true);
          return error as FrameError;
        }
        return expect.fail("add() did not throw");
      };

      it("the default limits are documented numbers: 1 GiB for one message, 2 GiB in all", () => {
        expect(DEFAULT_MAX_MESSAGE_BYTES).to.equal(1024 ** 3);
        expect(DEFAULT_MAX_HELD_BYTES).to.equal(2 * 1024 ** 3);
      });

      it("a chain of FLAG_MORE frames that never ends is refused once it holds more than the message limit", () => {
        const reassembler = new Reassembler({ maxMessageBytes: 1000 });
        const chunk = Buffer.alloc(300);
        // 900 bytes held: still fine, then the fourth frame would make 1200.
        for (let i = 0; i < 3; i++) expect(reassembler.add(FrameType.Op, FLAG_MORE, 4, 9, chunk)).to.equal(null);
        const error = expectRefused(reassembler, [[FrameType.Op, FLAG_MORE, 4, 9, chunk]]);
        expect(error.message).to.equal("an Op message for slave 4, id 9 would exceed 1000 bytes (1200 so far), the limit for one message: the peer sent a chain of frames that does not end");
      });

      it("exactly the limit is accepted, as is a message ending on the frame that reaches it", () => {
        const reassembler = new Reassembler({ maxMessageBytes: 1000 });
        expect(reassembler.add(FrameType.Result, FLAG_MORE, 1, 1, Buffer.alloc(600))).to.equal(null);
        expect(reassembler.add(FrameType.Result, 0, 1, 1, Buffer.alloc(400))!.length).to.equal(1000);
        // Nothing is held any more: another message of the same size passes too.
        expect(reassembler.add(FrameType.Result, FLAG_MORE, 1, 2, Buffer.alloc(999))).to.equal(null);
        expect(reassembler.add(FrameType.Result, 0, 1, 2, Buffer.alloc(1))!.length).to.equal(1000);
      });

      it("the last frame of a message counts too: ending one byte over the limit is refused", () => {
        const reassembler = new Reassembler({ maxMessageBytes: 1000 });
        reassembler.add(FrameType.Result, FLAG_MORE, 1, 1, Buffer.alloc(600));
        expect(expectRefused(reassembler, [[FrameType.Result, 0, 1, 1, Buffer.alloc(401)]]).message).to.match(/would exceed 1000 bytes \(1001 so far\)/);
      });

      it("many unfinished messages, each under the message limit, are refused once they hold more than the total limit", () => {
        const reassembler = new Reassembler({ maxMessageBytes: 1000, maxHeldBytes: 2500 });
        const chunk = Buffer.alloc(500);
        const frames: Array<[number, number, number, number, Buffer]> = [];
        for (let id = 1; id <= 6; id++) frames.push([FrameType.Result, FLAG_MORE, 2, id, chunk]);
        const error = expectRefused(reassembler, frames);
        expect(error.message).to.equal("unfinished messages would hold 3000 bytes, over the limit of 2500: the peer started messages it does not finish (a Result message for slave 2, id 6)");
      });

      it("held bytes are given back when a message completes and when dropSlave drops it", () => {
        const reassembler = new Reassembler({ maxMessageBytes: 1000, maxHeldBytes: 1500 });
        for (let round = 0; round < 10; round++) {
          reassembler.add(FrameType.Result, FLAG_MORE, 1, round, Buffer.alloc(800));
          reassembler.add(FrameType.Result, FLAG_MORE, 2, round, Buffer.alloc(600));
          expect(reassembler.heldBytes).to.equal(1400);
          expect(reassembler.add(FrameType.Result, 0, 1, round, Buffer.alloc(1))!.length).to.equal(801);
          reassembler.dropSlave(2);
          expect(reassembler.heldBytes).to.equal(0);
        }
      });

      it("a single frame is not held: only the message limit applies to it", () => {
        const reassembler = new Reassembler({ maxMessageBytes: 100, maxHeldBytes: 100 });
        expect(reassembler.add(FrameType.Log, 0, 0, 0, Buffer.alloc(100))!.length).to.equal(100);
        expect(expectRefused(reassembler, [[FrameType.Log, 0, 0, 0, Buffer.alloc(101)]]).message).to.match(/^a Log message for slave 0, id 0 would exceed 100 bytes \(101 so far\)/);
      });
    });

    it("dropSlave forgets the partial messages of that slave only", () => {
      const reassembler = new Reassembler();
      expect(reassembler.add(FrameType.Result, FLAG_MORE, 3, 1, Buffer.from("dead-"))).to.equal(null);
      expect(reassembler.add(FrameType.Result, FLAG_MORE, 13, 1, Buffer.from("alive-"))).to.equal(null);
      reassembler.dropSlave(3);
      expect(reassembler.add(FrameType.Result, 0, 3, 1, Buffer.from("fresh"))!.toString()).to.equal("fresh");
      expect(reassembler.add(FrameType.Result, 0, 13, 1, Buffer.from("end"))!.toString()).to.equal("alive-end");
    });
  });
});
