// The master's byte stream, routed by frame header: a frame for slave N goes to that slave's channel
// as the raw bytes it arrived in (never decoded, never copied), SharedData for the agent goes to the
// shared-data relay chunk by chunk, and the agent's own control frames are joined and handed over.
// Writes to each slave for one chunk read leave together: every slave channel is corked while the
// chunk is split (one writev per slave per chunk).
import { FrameSplitter, FrameType, HEADER_BYTES, Reassembler } from "../core/protocol/frame.ts";

/** A slave's frame channel as the router writes to it (a net.Socket on fd 3 of the slave). */
export interface SlaveSink {
  write(bytes: Buffer): unknown;
  cork(): void;
  uncork(): void;
}

export interface RouterPorts {
  /** The channel of slave `id` while it runs, else undefined (frames for it are dropped). */
  slave(id: number): SlaveSink | undefined;
  /** The channels of every running slave. */
  slaves(): Iterable<SlaveSink>;
  /** A piece of a SharedData frame for the agent, as read: part of a value it fetched (shared-relay.ts); FLAG_MORE on all but the value's last. */
  sharedData(fetchId: number, flags: number, chunk: Buffer): void;
  /** A whole control message for the agent (Config, Spawn, Kill, Stop, SharedFree, Heartbeat …). */
  control(type: FrameType, flags: number, id: number, payload: Buffer): void;
}

/**
 * Control messages to the agent are small (a Config, a list of freed hashes): a chain of frames
 * beyond this is not one of them.
 */
export const CONTROL_MESSAGE_BYTES = 64 * 1024 * 1024;

export class MasterRouter {
  private readonly splitter: FrameSplitter;
  private readonly control = new Reassembler({ maxMessageBytes: CONTROL_MESSAGE_BYTES, maxHeldBytes: CONTROL_MESSAGE_BYTES });

  constructor(private readonly ports: RouterPorts) {
    this.splitter = new FrameSplitter(
      (type, flags, slave, id, raw) => {
        if (slave !== 0) {
          ports.slave(slave)?.write(raw);
          return;
        }
        const payload = this.control.add(type, flags, slave, id, raw.subarray(HEADER_BYTES));
        if (payload) ports.control(type, flags, id, payload);
      },
      undefined,
      undefined,
      // Shared data for the agent is passed on piece by piece as it is read (shared-relay.ts): never
      // joined, not even a frame spread over several reads.
      { wants: (type, _flags, slave) => slave === 0 && type === FrameType.SharedData, onPiece: (_type, flags, _slave, id, piece) => ports.sharedData(id, flags, piece) },
    );
  }

  /** One chunk read from the master. Throws FrameError when the stream is not frames. */
  push(chunk: Buffer): void {
    const corked = [...this.ports.slaves()];
    for (const sink of corked) sink.cork();
    try {
      this.splitter.push(chunk);
    } finally {
      for (const sink of corked) sink.uncork();
    }
  }
}
