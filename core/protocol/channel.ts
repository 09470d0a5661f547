// A frame channel over any duplex byte stream. Batches writes: frames sent in one tick leave in one
// write. Owns no I/O itself: the transport is a tiny interface a connection implements.
import { FLAG_MORE, FrameError, FrameSplitter, DEFAULT_MAX_PAYLOAD, HEADER_BYTES, Reassembler, type FrameType, encodeMessage, frameHeader } from "./frame.ts";

/** What a channel needs from a byte stream (a child's pipes, an SSH exec channel, a socket …). */
export interface Transport {
  /** Returns false when the stream wants the writer to wait for `onDrain`. */
  write(bytes: Buffer): boolean;
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  /** The stream ended or failed; `error` says why when it failed. */
  onClose(listener: (error?: Error) => void): void;
  close(): void;
}

export interface IncomingFrame {
  type: FrameType;
  flags: number;
  slave: number;
  id: number;
  /** Whole message payload (chunks already joined); for an `unjoined` type, a piece of it as read (FLAG_MORE: more follow). */
  payload: Buffer;
}

export interface FrameChannelOptions {
  /** Names the peer in errors, e.g. `agent on h1`. */
  peer: string;
  maxPayload?: number;
  /** Most bytes one incoming message may reach, joined; default DEFAULT_MAX_MESSAGE_BYTES (frame.ts). */
  maxMessageBytes?: number;
  /** Most bytes held for unfinished incoming messages together; default DEFAULT_MAX_HELD_BYTES. */
  maxHeldBytes?: number;
  /**
   * Frame types whose payloads are delivered piece by piece as the bytes arrive, never joined (each
   * piece a view of a read, FLAG_MORE on all but a message's last): for a receiver that places a
   * large message itself (a slave's shared data, into one buffer of the announced size).
   */
  unjoined?: readonly FrameType[];
}

export class ChannelClosedError extends Error {
  override name = "ChannelClosedError";
}

export class FrameChannel {
  readonly peer: string;
  readonly maxPayload: number;
  private readonly splitter: FrameSplitter;
  private readonly reassembler: Reassembler;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private closed = false;
  private closeError: Error | undefined;
  private frameListener: (frame: IncomingFrame) => void = () => {};
  private closeListeners: Array<(error?: Error) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private writable = true;
  /** Bytes that went out, for statistics. */
  bytesOut = 0;
  bytesIn = 0;
  lastReceived = Date.now();

  constructor(
    private readonly transport: Transport,
    options: FrameChannelOptions,
  ) {
    this.peer = options.peer;
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.reassembler = new Reassembler({ maxMessageBytes: options.maxMessageBytes, maxHeldBytes: options.maxHeldBytes });
    const unjoined = new Set<number>(options.unjoined ?? []);
    this.splitter = new FrameSplitter(
      (type, flags, slave, id, raw) => {
        if (this.closed) return; // a listener failed the channel: the rest of this chunk is dropped
        const payload = this.reassembler.add(type, flags, slave, id, raw.subarray(HEADER_BYTES));
        if (payload) this.frameListener({ type, flags, slave, id, payload });
      },
      this.maxPayload,
      undefined,
      unjoined.size === 0
        ? undefined
        : {
            wants: (type) => unjoined.has(type),
            onPiece: (type, flags, slave, id, payload) => {
              if (!this.closed) this.frameListener({ type, flags, slave, id, payload });
            },
          },
    );
    transport.onData((chunk) => {
      if (this.closed) return;
      this.bytesIn += chunk.length;
      this.lastReceived = Date.now();
      try {
        this.splitter.push(chunk);
      } catch (error) {
        const reason = error instanceof FrameError ? error.message : `frame handler failed: ${(error as Error).message}`;
        this.fail(new FrameError(`${this.peer}: ${reason}`));
      }
    });
    transport.onDrain(() => {
      this.writable = true;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const wake of waiters) wake();
    });
    transport.onClose((error) => {
      const truncated = this.splitter.bufferedBytes > 0 ? ` (stream ended inside a frame, ${this.splitter.bufferedBytes} bytes in)` : "";
      const failure = error ? new FrameError(`${this.peer}: ${error.message}`, { cause: error }, false) : undefined;
      this.finish(failure ?? (truncated ? new FrameError(`${this.peer}: truncated frame${truncated}`, undefined, false) : undefined));
    });
  }

  onFrame(listener: (frame: IncomingFrame) => void): void {
    this.frameListener = listener;
  }

  onClose(listener: (error?: Error) => void): void {
    if (this.closed) queueMicrotask(() => listener(this.closeError));
    else this.closeListeners.push(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a message (split into frames when large); it leaves with the next flush. */
  send(type: FrameType, slave: number, id: number, payload?: Uint8Array, flags = 0): void {
    if (this.closed) return;
    if (!payload || payload.length <= this.maxPayload) {
      this.sendRaw(encodeFrameFast(type, slave, id, payload, flags));
      return;
    }
    for (const frame of encodeMessage(type, slave, id, payload, flags, this.maxPayload)) this.sendRaw(frame);
  }

  /** Queues bytes that are already whole frames (a router forwarding what it received). */
  sendRaw(frames: Buffer): void {
    if (this.closed) return;
    this.pending.push(frames);
    this.pendingBytes += frames.length;
    if (this.pendingBytes >= 256 * 1024) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  /** Sends a large payload chunk by chunk, waiting for the stream to drain in between. */
  async sendStreaming(type: FrameType, slave: number, id: number, payload: Uint8Array, flags = 0, chunkBytes = this.maxPayload): Promise<void> {
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const step = Math.min(chunkBytes, this.maxPayload);
    for (let start = 0; ; start += step) {
      if (this.closed) throw new ChannelClosedError(`${this.peer}: channel closed`);
      const end = Math.min(bytes.length, start + step);
      const last = end >= bytes.length;
      // Each frame is its header, then a view of the payload: a large value is never copied here.
      this.flush();
      this.bytesOut += HEADER_BYTES + end - start;
      this.transport.write(frameHeader(type, last ? flags : flags | FLAG_MORE, slave, id, end - start));
      if (!this.transport.write(bytes.subarray(start, end))) this.writable = false;
      if (!this.writable) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      if (last) return;
    }
  }

  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.bytesOut += bytes.length;
    if (!this.transport.write(bytes)) this.writable = false;
  }

  /** Flushes what is queued and closes the stream. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.transport.close();
    this.finish();
  }

  /** Closes the channel because of a protocol error (corrupt frame, bad hello …). */
  fail(error: Error): void {
    if (this.closed) return;
    this.transport.close();
    this.finish(error);
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    this.pending = [];
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
    for (const listener of this.closeListeners) listener(error);
    this.closeListeners = [];
  }
}

function encodeFrameFast(type: FrameType, slave: number, id: number, payload: Uint8Array | undefined, flags: number): Buffer {
  const length = payload ? payload.length : 0;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + length);
  buffer[0] = 0xa7;
  buffer[1] = type;
  buffer.writeUInt16LE(flags, 2);
  buffer.writeUInt32LE(length, 4);
  buffer.writeUInt32LE(slave, 8);
  buffer.writeUInt32LE(id >>> 0, 12);
  if (payload) buffer.set(payload, HEADER_BYTES);
  return buffer;
}

export { DEFAULT_MAX_PAYLOAD };
