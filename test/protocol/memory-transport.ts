// An in-memory duplex byte stream for unit tests: two ends, each a Transport. What one end writes
// reaches the other end's onData asynchronously (setImmediate), in order, like a pipe. Tests can
// inject raw bytes, end the stream (cleanly or with an error) and simulate backpressure.
import type { Transport } from "../../core/protocol/channel.ts";

type Delivery = { kind: "data"; bytes: Buffer } | { kind: "close"; error?: Error };

export interface MemoryEndOptions {
  /**
   * write() returns false once more than this many bytes written by this end are still in flight
   * (not yet delivered); onDrain fires when they have all been delivered. Default: no limit.
   */
  highWaterMark?: number;
}

export class MemoryEnd implements Transport {
  /** The other end. */
  peer!: MemoryEnd;
  /** Every buffer this end wrote, in order (a copy of each). */
  readonly writes: Buffer[] = [];
  /** Calls of write() that returned false. */
  refusedWrites = 0;
  /** The most bytes of this end's writes in flight at once. */
  maxInFlight = 0;
  highWaterMark: number;

  private dataListeners: Array<(chunk: Buffer) => void> = [];
  private drainListeners: Array<() => void> = [];
  private closeListeners: Array<(error?: Error) => void> = [];
  private inFlight = 0;
  private wantsDrain = false;
  /** No more writes are accepted (close() or hangUp() was called on either end). */
  private ended = false;
  /** Close listeners of this end have run. */
  private closedHere = false;

  constructor(options: MemoryEndOptions = {}) {
    this.highWaterMark = options.highWaterMark ?? Infinity;
  }

  get isClosed(): boolean {
    return this.closedHere;
  }

  // ------------------------------------------------------------------ Transport

  write(bytes: Buffer): boolean {
    if (this.ended) return false;
    const copy = Buffer.from(bytes);
    this.writes.push(copy);
    this.inFlight += copy.length;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.peer.enqueue({ kind: "data", bytes: copy }, () => {
      this.inFlight -= copy.length;
      if (this.inFlight === 0 && this.wantsDrain) {
        this.wantsDrain = false;
        for (const listener of this.drainListeners) listener();
      }
    });
    if (this.inFlight > this.highWaterMark) {
      this.refusedWrites++;
      this.wantsDrain = true;
      return false;
    }
    return true;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  /** Ends the stream for both ends; bytes already written are delivered first. */
  close(): void {
    this.hangUp();
  }

  // ------------------------------------------------------------------ test controls

  /** Raw bytes arrive at this end as if the peer wrote them (asynchronously, after earlier data). */
  inject(bytes: Uint8Array): void {
    this.enqueue({ kind: "data", bytes: Buffer.from(bytes) });
  }

  /** Raw bytes arrive at this end now, synchronously (nothing queued may be pending). */
  injectNow(bytes: Uint8Array): void {
    if (this.closedHere) return;
    const chunk = Buffer.from(bytes);
    for (const listener of this.dataListeners) listener(chunk);
  }

  /** The stream ends for both ends, after the bytes already in flight; `error` says it failed. */
  hangUp(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.peer.ended = true;
    this.enqueue({ kind: "close", error });
    this.peer.enqueue({ kind: "close", error });
  }

  /** Ends the stream now for this end (its close listeners run before this returns), later for the peer. */
  hangUpNow(error?: Error): void {
    const peerNotified = this.ended;
    this.ended = true;
    this.peer.ended = true;
    this.deliver({ kind: "close", error });
    if (!peerNotified) this.peer.enqueue({ kind: "close", error });
  }

  // ------------------------------------------------------------------ delivery

  /**
   * Each delivery runs in its own setImmediate, as each read of a real pipe is its own event: promise
   * callbacks run between two chunks. setImmediate callbacks run in the order they were scheduled.
   */
  private enqueue(item: Delivery, delivered?: () => void): void {
    setImmediate(() => {
      this.deliver(item);
      delivered?.();
    });
  }

  private deliver(item: Delivery): void {
    if (this.closedHere) return;
    if (item.kind === "data") {
      for (const listener of this.dataListeners) listener(item.bytes);
      return;
    }
    this.closedHere = true;
    for (const listener of this.closeListeners) listener(item.error);
  }
}

/** Two connected ends: `a.write()` reaches `b.onData` and the other way round. */
export function memoryTransportPair(options: { a?: MemoryEndOptions; b?: MemoryEndOptions } = {}): [MemoryEnd, MemoryEnd] {
  const a = new MemoryEnd(options.a);
  const b = new MemoryEnd(options.b);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
