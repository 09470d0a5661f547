// Length-prefixed binary frames. Pure: no I/O; callers feed bytes in and take buffers out.
//
// Header (16 bytes, little endian):
//   0  u8   magic 0xA7     catches a peer that printed text where frames belong
//   1  u8   type           FrameType
//   2  u16  flags          FLAG_*
//   4  u32  payload length
//   8  u32  slave id       0 = the agent itself; routing needs only this field
//   12 u32  id             op id, context sequence, request id … (meaning depends on type)

export const FRAME_MAGIC = 0xa7;
export const HEADER_BYTES = 16;
/** Default largest payload of one frame; bigger messages travel as several frames (FLAG_MORE). */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export const FrameType = {
  Hello: 1, // agent → master: who the agent is (protocol, build, arch …)
  Config: 2, // master → agent: program bundle, heartbeat interval
  Spawn: 3, // master → agent: start a slave with this id
  Kill: 4, // master → agent: stop a slave
  SlaveReady: 5, // slave → master: program loaded (or failed to load: FLAG_ERROR)
  SlaveExit: 6, // agent → master: a slave process ended
  Op: 7, // master → slave: run a worker op
  Result: 8, // slave → master: an op's result (FLAG_ERROR: an exception)
  Context: 9, // master → slave: apply a context op
  ContextAck: 10, // slave → master: context op applied (FLAG_ERROR: it threw)
  Cancel: 11, // master → slave: abort an op's signal
  Log: 12, // agent → master: lines a slave (or the agent) printed
  Heartbeat: 13, // both ways
  SharedVersion: 14, // master → slave: key K has value hash H from epoch E on
  SharedGet: 15, // slave → agent: send me the bytes of hash H
  SharedFetch: 16, // agent → master: send me the bytes of hash H
  SharedData: 17, // master → agent, agent → slave: the bytes (chunked)
  SharedFree: 18, // master → agent / slave: forget a version
  Fatal: 19, // agent → master: the agent cannot go on
  Stop: 20, // master → agent: let the slaves finish printing, then report Stopped
  Stopped: 21, // agent → master: every slave has exited and its output was forwarded
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];
const MAX_FRAME_TYPE = 21;

export const FLAG_MORE = 1; // more frames of the same message follow
export const FLAG_ERROR = 2; // payload is an encoded error
export const FLAG_STDERR = 4; // Log: the line came from stderr

export interface Frame {
  type: FrameType;
  flags: number;
  slave: number;
  id: number;
  payload: Buffer;
}

/** A stream that broke the framing. `corrupt`: the peer wrote non-frames (as opposed to a connection that ended mid-frame). */
export class FrameError extends Error {
  override name = "FrameError";
  constructor(
    message: string,
    options?: { cause?: unknown },
    readonly corrupt = true,
  ) {
    super(message, options);
  }
}

export function frameTypeName(type: number): string {
  for (const [name, value] of Object.entries(FrameType)) if (value === type) return name;
  return `unknown(${type})`;
}

export function writeHeader(target: Buffer, offset: number, type: FrameType, flags: number, slave: number, id: number, length: number): void {
  target[offset] = FRAME_MAGIC;
  target[offset + 1] = type;
  target.writeUInt16LE(flags, offset + 2);
  target.writeUInt32LE(length, offset + 4);
  target.writeUInt32LE(slave, offset + 8);
  target.writeUInt32LE(id >>> 0, offset + 12);
}

/** One frame as a single buffer. */
/** A frame's 16-byte header alone, for a payload written after it as it is (no copy). */
export function frameHeader(type: FrameType, flags: number, slave: number, id: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  writeHeader(header, 0, type, flags, slave, id, length);
  return header;
}

export function encodeFrame(type: FrameType, slave: number, id: number, payload: Uint8Array = EMPTY, flags = 0): Buffer {
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  writeHeader(buffer, 0, type, flags, slave, id, payload.length);
  buffer.set(payload, HEADER_BYTES);
  return buffer;
}

/** A message as one or more frames, each payload at most maxPayload bytes. */
export function encodeMessage(type: FrameType, slave: number, id: number, payload: Uint8Array, flags = 0, maxPayload = DEFAULT_MAX_PAYLOAD): Buffer[] {
  if (payload.length <= maxPayload) return [encodeFrame(type, slave, id, payload, flags)];
  const frames: Buffer[] = [];
  for (let start = 0; start < payload.length; start += maxPayload) {
    const end = Math.min(start + maxPayload, payload.length);
    const more = end < payload.length ? FLAG_MORE : 0;
    frames.push(encodeFrame(type, slave, id, payload.subarray(start, end), flags | more));
  }
  return frames;
}

const EMPTY = Buffer.alloc(0);

export interface RawFrameSink {
  /** A whole frame: header fields plus its bytes (header included) in `raw`. */
  (type: FrameType, flags: number, slave: number, id: number, raw: Buffer): void;
}

/**
 * Sees each frame's header as soon as it has arrived, before the payload: throwing a FrameError
 * refuses the stream there (a reader that knows who may send what, without waiting for bytes that a
 * bogus length announces).
 */
export interface HeaderCheck {
  (type: FrameType, flags: number, slave: number, id: number, length: number): void;
}

/**
 * Frames whose payload a reader takes piece by piece as the bytes arrive, instead of whole: a large
 * value placed straight where it belongs (no joining copy per frame).
 */
export interface PieceSink {
  /** Asked once a frame's header is in (and checked): should its payload come in pieces? */
  wants(type: FrameType, flags: number, slave: number, id: number): boolean;
  /**
   * A piece of such a frame's payload: a view of the bytes read, in order. Every piece but the last
   * of a frame carries FLAG_MORE, and the last carries the frame's own flags: so the pieces read as
   * the frames of a chunked message would. A frame with no payload gives one empty piece.
   */
  onPiece(type: FrameType, flags: number, slave: number, id: number, piece: Buffer): void;
}

/**
 * Splits a byte stream into frames. Calls `onFrame` with each frame's header fields and a view of
 * its bytes (header included) so that a router can forward it without copying or decoding; frames
 * `pieces` wants go there instead, their payload piece by piece.
 * Throws FrameError on bad magic, unknown type, an oversized frame or a header `checkHeader` refuses:
 * the caller closes the channel.
 */
export class FrameSplitter {
  /** Received bytes not yet forming a whole frame (or header); joined only once it is complete. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the frame at the start of `pending` needs in all (0 = header not complete yet). */
  private needed = 0;
  /** The frame whose payload is being passed on in pieces, and how much of it is still to come. */
  private streaming: { type: FrameType; flags: number; slave: number; id: number; remaining: number; received: number } | null = null;

  constructor(
    private readonly onFrame: RawFrameSink,
    private readonly maxPayload = DEFAULT_MAX_PAYLOAD,
    private readonly checkHeader?: HeaderCheck,
    private readonly pieces?: PieceSink,
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    if (this.streaming) {
      offset = this.passPiece(chunk, 0);
      if (this.streaming) return;
    }
    if (this.pendingBytes > 0) {
      if (this.needed === 0) {
        // The header is still incomplete: complete it from this chunk (no more), and check it.
        const take = Math.min(HEADER_BYTES - this.pendingBytes, chunk.length - offset);
        this.pending.push(chunk.subarray(offset, offset + take));
        this.pendingBytes += take;
        offset += take;
        const header = Buffer.concat(this.pending, this.pendingBytes);
        this.pending = [header];
        checkFrameStart(header, 0);
        if (this.pendingBytes < HEADER_BYTES) return;
        const size = this.frameSize(header, 0);
        if (this.pieces?.wants(header[1]! as FrameType, header.readUInt16LE(2), header.readUInt32LE(8), header.readUInt32LE(12))) {
          this.pending = [];
          this.pendingBytes = 0;
          this.startPieces(header, 0, size);
          offset = this.passPiece(chunk, offset);
          if (!this.streaming) this.split(chunk, offset);
          return;
        }
        this.needed = size;
      }
      // A large frame arrives in many chunks: wait for all of it instead of re-joining every time.
      const rest = offset === 0 ? chunk : chunk.subarray(offset);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      if (this.pendingBytes < this.needed) return;
      const joined = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.needed = 0;
      return this.split(joined, 0);
    }
    this.split(chunk, offset);
  }

  /** Frames from `offset` on; what is left of an unfinished frame waits in `pending`. */
  private split(chunk: Buffer, offset: number): void {
    while (chunk.length - offset >= HEADER_BYTES) {
      const size = this.frameSize(chunk, offset);
      const type = chunk[offset + 1]! as FrameType;
      const flags = chunk.readUInt16LE(offset + 2);
      const slave = chunk.readUInt32LE(offset + 8);
      const id = chunk.readUInt32LE(offset + 12);
      if (this.pieces?.wants(type, flags, slave, id)) {
        this.startPieces(chunk, offset, size);
        offset = this.passPiece(chunk, offset + HEADER_BYTES);
        if (this.streaming) return;
        continue;
      }
      const end = offset + size;
      if (end > chunk.length) break;
      this.onFrame(type, flags, slave, id, chunk.subarray(offset, end));
      offset = end;
    }
    if (offset < chunk.length) {
      const rest = chunk.subarray(offset);
      // A peer that printed a short line (fewer bytes than a header) is caught now, not at a timeout.
      checkFrameStart(rest, 0);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      this.needed = rest.length >= HEADER_BYTES ? this.frameSize(rest, 0) : 0;
    }
  }

  /** The frame whose header is at `offset` comes in pieces from now on. */
  private startPieces(data: Buffer, offset: number, size: number): void {
    const type = data[offset + 1]! as FrameType;
    this.streaming = { type, flags: data.readUInt16LE(offset + 2), slave: data.readUInt32LE(offset + 8), id: data.readUInt32LE(offset + 12), remaining: size - HEADER_BYTES, received: 0 };
  }

  /** Passes on what `chunk` holds of the streaming frame's payload; returns the offset after it. */
  private passPiece(chunk: Buffer, offset: number): number {
    const frame = this.streaming!;
    const take = Math.min(frame.remaining, chunk.length - offset);
    // An empty chunk gives no piece; an empty frame gives one empty piece.
    if (take === 0 && frame.remaining > 0) return offset;
    frame.remaining -= take;
    frame.received += take;
    const last = frame.remaining === 0;
    if (last) this.streaming = null;
    this.pieces!.onPiece(frame.type, last ? frame.flags : frame.flags | FLAG_MORE, frame.slave, frame.id, chunk.subarray(offset, offset + take));
    return offset + take;
  }

  /** Validates the header at `offset` and returns the whole frame's size. */
  private frameSize(data: Buffer, offset: number): number {
    checkFrameStart(data, offset);
    const length = data.readUInt32LE(offset + 4);
    if (length > this.maxPayload) throw new FrameError(`oversized frame: ${length} bytes, limit ${this.maxPayload}`);
    this.checkHeader?.(data[offset + 1]! as FrameType, data.readUInt16LE(offset + 2), data.readUInt32LE(offset + 8), data.readUInt32LE(offset + 12), length);
    return HEADER_BYTES + length;
  }

  /** Bytes of a frame that has not been completed yet (a truncated stream ends with some). */
  get bufferedBytes(): number {
    return this.streaming ? HEADER_BYTES + this.streaming.received : this.pendingBytes;
  }
}

/** Checks the magic byte and, when present, the type byte of a frame starting at `offset`. */
function checkFrameStart(data: Buffer, offset: number): void {
  const byte = data[offset]!;
  if (byte !== FRAME_MAGIC) {
    const shown = byte >= 0x20 && byte < 0x7f ? ` ('${String.fromCharCode(byte)}')` : "";
    throw new FrameError(`bad frame start byte 0x${byte.toString(16).padStart(2, "0")}${shown}: the peer wrote something that is not a frame`);
  }
  if (data.length - offset < 2) return;
  const type = data[offset + 1]!;
  if (type < 1 || type > MAX_FRAME_TYPE) throw new FrameError(`unknown frame type ${type}`);
}

/**
 * Default most bytes one message may reach when joined. A message is built in one Buffer by its
 * sender and joined into another by its receiver, then decoded: at 1 GiB that is already 3 GiB or
 * more across the two ends, past what an op input or result should be (large values go as shared
 * data). A peer that announces more is refused instead of growing the receiver's memory without end.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 ** 3;
/** Default most bytes held for all unfinished messages together (a sender finishes one message before the next, bar one streamed alongside). */
export const DEFAULT_MAX_HELD_BYTES = 2 * DEFAULT_MAX_MESSAGE_BYTES;

export interface ReassemblerLimits {
  /** Most bytes one message may reach; default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  /** Most bytes held for all unfinished messages together; default DEFAULT_MAX_HELD_BYTES. */
  maxHeldBytes?: number;
}

interface Partial {
  parts: Buffer[];
  bytes: number;
}

/**
 * Joins the frames of chunked messages (FLAG_MORE) back into whole payloads. A message that would
 * grow past `maxMessageBytes`, or unfinished messages holding more than `maxHeldBytes` in all, are a
 * FrameError (corrupt): the caller closes the channel at once instead of waiting for an end that a
 * forged chain of frames never sends.
 */
export class Reassembler {
  private readonly partial = new Map<string, Partial>();
  private held = 0;
  private readonly maxMessageBytes: number;
  private readonly maxHeldBytes: number;

  constructor(limits: ReassemblerLimits = {}) {
    this.maxMessageBytes = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxHeldBytes = limits.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
  }

  /** Bytes held now for unfinished messages. */
  get heldBytes(): number {
    return this.held;
  }

  /** Returns the whole payload when this frame completes a message, else null. */
  add(type: number, flags: number, slave: number, id: number, payload: Buffer): Buffer | null {
    const more = (flags & FLAG_MORE) !== 0;
    const key = `${type}:${slave}:${id}`;
    const entry = this.partial.get(key);
    const total = (entry?.bytes ?? 0) + payload.length;
    if (total > this.maxMessageBytes) {
      throw new FrameError(
        `${describeMessage(type, slave, id)} would exceed ${this.maxMessageBytes} bytes (${total} so far), the limit for one message: the peer sent a chain of frames that does not end`,
      );
    }
    // Payloads are views of buffers the splitter never reuses: they are kept as they are and
    // copied once, when the message is joined.
    if (!entry) {
      if (!more) return payload;
      this.hold(type, slave, id, payload.length);
      this.partial.set(key, { parts: [payload], bytes: payload.length });
      return null;
    }
    if (more) {
      this.hold(type, slave, id, payload.length);
      entry.parts.push(payload);
      entry.bytes = total;
      return null;
    }
    entry.parts.push(payload);
    this.partial.delete(key);
    this.held -= entry.bytes;
    return Buffer.concat(entry.parts, total);
  }

  /** Drops partial messages of one slave (it died mid-message). */
  dropSlave(slave: number): void {
    for (const [key, entry] of this.partial) {
      if (key.split(":")[1] !== String(slave)) continue;
      this.partial.delete(key);
      this.held -= entry.bytes;
    }
  }

  private hold(type: number, slave: number, id: number, bytes: number): void {
    if (this.held + bytes > this.maxHeldBytes) {
      throw new FrameError(
        `unfinished messages would hold ${this.held + bytes} bytes, over the limit of ${this.maxHeldBytes}: the peer started messages it does not finish (${describeMessage(type, slave, id)})`,
      );
    }
    this.held += bytes;
  }
}

function describeMessage(type: number, slave: number, id: number): string {
  const name = frameTypeName(type);
  return `${/^[AEIOUaeiou]/.test(name) ? "an" : "a"} ${name} message for slave ${slave}, id ${id}`;
}
