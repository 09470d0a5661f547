// The agent's shared-data cache, and the relay that fills it. A value is fetched from the master
// once per host; its chunks are passed on to the slaves waiting for it as they arrive (cut-through),
// so the transfer into the host and the copies into the slaves overlap instead of following each
// other. The last chunk goes out only once the whole value matches its sha256: a slave never gets a
// complete value that is wrong. Should it not match (a bug, never seen), slaves already holding
// part of it are killed (their ops re-run elsewhere), the others get an error.
//
// It never takes on what the host cannot hold: before a value is fetched (or passed on from the
// cache) its size is judged against the host's largest buffer and its free memory at that moment
// (host-room.ts): the cache's copy and the asking slave's, or only the slave's when the cache has it
// or is filling already. Free memory is a snapshot that does not yet show the copies of transfers
// under way, so those are pledged and taken off it until their transfer ends. A value that does not
// fit is answered with a HostLimitError, and not one byte of it is fetched; the master runs that op
// on another host.
import { createHash, type Hash } from "node:crypto";
import { encode } from "../core/protocol/codec.ts";
import { FLAG_ERROR, FLAG_MORE, FrameType, encodeFrame, frameHeader } from "../core/protocol/frame.ts";
import { hostLimitError, whyNoRoom, type HostRoom } from "../core/protocol/host-room.ts";

interface Waiter {
  slave: number;
  request: number;
  /** Chunks already passed on to it. */
  sent: number;
}

interface Transfer {
  hash: string;
  hasher: Hash;
  chunks: Buffer[];
  waiters: Waiter[];
  /** Bytes pledged for it (see SharedRelay.pledged). */
  pledged: number;
}

export interface RelayPorts {
  /** Sends a frame to the master. */
  toMaster(frame: Buffer): void;
  /** Writes bytes to a slave's channel; false when that slave is gone. */
  toSlave(slave: number, bytes: Buffer): boolean;
  /** Kills a slave whose channel holds part of a value that turned out wrong. */
  killSlave(slave: number, reason: string): void;
  /** What the host can hold now (its free memory measured at each call). */
  room(): HostRoom;
  /** A value's bytes from a shared folder, or null when it is not there (then it is fetched from the master). */
  fromFile?(hash: string): Promise<Buffer | null>;
}

/** A value read from a file is passed on in pieces of this size (frames have a 1 MiB limit). */
const FILE_PIECE_BYTES = 256 * 1024;

export class SharedRelay {
  /** Values by hash, kept as the chunks they arrived in (no joining copy). */
  private readonly cache = new Map<string, Buffer[]>();
  private readonly transfers = new Map<number, Transfer>();
  private readonly fetching = new Map<string, Transfer>();
  private nextFetch = 1;
  /** Copies promised to transfers under way (the cache's, each waiting slave's), not yet in free memory's figure. */
  private pledged = 0;

  constructor(private readonly ports: RelayPorts) {}

  /** A slave asks for a value of `size` bytes (as its version announced). */
  get(slave: number, request: number, hash: string, size: number): void {
    const cached = this.cache.get(hash);
    const running = cached ? undefined : this.fetching.get(hash);
    // The slave's own copy, and the cache's unless the cache has it or is filling already.
    const copies = cached || running ? 1 : 2;
    const room = this.ports.room();
    const noRoom = whyNoRoom(size, copies, { ...room, freeMemoryBytes: room.freeMemoryBytes - this.pledged });
    if (noRoom !== null) {
      this.ports.toSlave(slave, encodeFrame(FrameType.SharedData, slave, request, encode(hostLimitError(noRoom)), FLAG_ERROR));
      return;
    }
    if (cached) {
      cached.forEach((chunk, i) => this.pass(slave, request, chunk, i < cached.length - 1 ? FLAG_MORE : 0));
      return;
    }
    if (running) {
      this.pledge(running, size);
      const waiter = { slave, request, sent: 0 };
      for (const chunk of running.chunks) this.pass(slave, request, chunk, FLAG_MORE), waiter.sent++;
      running.waiters.push(waiter);
      return;
    }
    const transfer: Transfer = { hash, hasher: createHash("sha256"), chunks: [], waiters: [{ slave, request, sent: 0 }], pledged: 0 };
    this.pledge(transfer, size * copies);
    const fetchId = this.nextFetch++;
    this.transfers.set(fetchId, transfer);
    this.fetching.set(hash, transfer);
    const fetch = () => this.ports.toMaster(encodeFrame(FrameType.SharedFetch, 0, fetchId, Buffer.from(hash)));
    if (!this.ports.fromFile) return fetch();
    this.ports.fromFile(hash).then(
      (bytes) => {
        if (!bytes || createHash("sha256").update(bytes).digest("hex") !== hash) return fetch();
        // Views of the one buffer read, passed on as if they had come from the master.
        let at = 0;
        do {
          const end = Math.min(bytes.length, at + FILE_PIECE_BYTES);
          this.receive(fetchId, end < bytes.length ? FLAG_MORE : 0, bytes.subarray(at, end));
          at = end;
        } while (at < bytes.length);
      },
      () => fetch(),
    );
  }

  /** One SharedData frame from the master (a chunk of a value, or an error instead of it). */
  receive(fetchId: number, flags: number, chunk: Buffer): void {
    const transfer = this.transfers.get(fetchId);
    if (!transfer) return;
    if (flags & FLAG_ERROR) return this.fail(fetchId, transfer, chunk);
    transfer.hasher.update(chunk);
    transfer.chunks.push(chunk);
    if (flags & FLAG_MORE) {
      for (const waiter of transfer.waiters) {
        this.pass(waiter.slave, waiter.request, chunk, FLAG_MORE);
        waiter.sent++;
      }
      return;
    }
    if (transfer.hasher.digest("hex") !== transfer.hash) {
      return this.fail(fetchId, transfer, encode(new Error(`shared data ${transfer.hash.slice(0, 12)} arrived corrupted (hash mismatch)`)));
    }
    this.end(fetchId, transfer);
    this.cache.set(transfer.hash, transfer.chunks);
    for (const waiter of transfer.waiters) this.pass(waiter.slave, waiter.request, chunk, 0);
  }

  /** The master freed these values: no op can read them any more. */
  free(hashes: string[]): void {
    for (const hash of hashes) this.cache.delete(hash);
  }

  /** A slave is gone: nothing more is passed on to it. */
  dropSlave(slave: number): void {
    for (const transfer of this.fetching.values()) transfer.waiters = transfer.waiters.filter((waiter) => waiter.slave !== slave);
  }

  private fail(fetchId: number, transfer: Transfer, errorPayload: Buffer): void {
    this.end(fetchId, transfer);
    for (const waiter of transfer.waiters) {
      if (waiter.sent === 0) this.ports.toSlave(waiter.slave, encodeFrame(FrameType.SharedData, waiter.slave, waiter.request, errorPayload, FLAG_ERROR));
      else this.ports.killSlave(waiter.slave, `shared data ${transfer.hash.slice(0, 12)} failed after part of it was passed on`);
    }
  }

  private end(fetchId: number, transfer: Transfer): void {
    this.transfers.delete(fetchId);
    this.fetching.delete(transfer.hash);
    // Its copies are made by now (or never will be): free memory's next figure speaks for them.
    this.pledged -= transfer.pledged;
    transfer.pledged = 0;
  }

  private pledge(transfer: Transfer, bytes: number): void {
    transfer.pledged += bytes;
    this.pledged += bytes;
  }

  /** One frame to a slave: a 16-byte header, then the chunk itself (not copied). */
  private pass(slave: number, request: number, chunk: Buffer, flags: number): void {
    if (this.ports.toSlave(slave, frameHeader(FrameType.SharedData, flags, slave, request, chunk.length))) this.ports.toSlave(slave, chunk);
  }
}
