// A slave's view of shared data: which hash each key has from which epoch on (SharedVersion frames,
// sent at once by the master), the values fetched so far (by hash, once per slave) and the requests
// waiting for bytes from the agent's cache (shared-relay.ts). An op reads the version current when
// the master issued it: `at(epoch)`.
//
// A value arrives as SharedData frames, each passed on as it comes (the channel does not join them:
// slave.ts). Its size is known from its version, so its chunks are copied once, into one buffer of
// that size, and it is decoded there: typed arrays in it are views of that buffer, not copies. A
// value longer or shorter than announced is a FrameError: the channel is not to be trusted.
import { showValue } from "../core/errors.ts";
import { allocateForDecode, decode, decodeInPlace } from "../core/protocol/codec.ts";
import { hostLimitError, isHostLimitError } from "../core/protocol/host-room.ts";
import { FLAG_ERROR, FLAG_MORE, FrameError } from "../core/protocol/frame.ts";
import type { SharedFree, SharedVersion } from "../core/protocol/messages.ts";

export interface SharedReaderPorts {
  /** Asks the agent for the bytes of `hash`, `size` of them (a SharedGet frame, sent now: an op is waiting). */
  request(request: number, hash: string, size: number): void;
}

export interface SharedView {
  get<T>(key: string): Promise<T>;
}

export class SharedReader {
  private readonly versions = new Map<string, SharedVersion[]>();
  private readonly values = new Map<string, Promise<unknown>>();
  private readonly requests = new Map<number, Request>();
  private nextRequest = 1;

  constructor(private readonly ports: SharedReaderPorts) {}

  /** What ops issued at `epoch` read. */
  at(epoch: number): SharedView {
    return {
      get: <T>(key: string): Promise<T> => {
        const found = this.versionAt(key, epoch);
        if (!found) return Promise.reject(new Error(`shared.get(${JSON.stringify(key)}): the master set no value under this key before issuing this op`));
        // The agent said its host cannot hold the value (shared-relay.ts): name the value.
        return (this.fetch(found) as Promise<T>).catch((error: unknown) => {
          throw isHostLimitError(error) ? hostLimitError(`shared value ${JSON.stringify(key)} is ${error.message}`) : error;
        });
      },
    };
  }

  /** A SharedVersion frame: `key` reads `hash` for ops issued at `epoch` or later. */
  addVersion(version: SharedVersion): void {
    const list = this.versions.get(version.key);
    if (list) list.push(version);
    else this.versions.set(version.key, [version]);
  }

  /** A SharedData frame from the agent: a chunk of the value (FLAG_MORE: more follow), or (FLAG_ERROR) why it cannot come. */
  receive(request: number, flags: number, chunk: Buffer): void {
    const waiting = this.requests.get(request);
    if (!waiting) return;
    const more = (flags & FLAG_MORE) !== 0;
    if (flags & FLAG_ERROR) {
      (waiting.error ??= []).push(Buffer.from(chunk));
      if (more) return;
      this.requests.delete(request);
      return waiting.reject(toError(decode(Buffer.concat(waiting.error))));
    }
    const end = waiting.received + chunk.length;
    if (end > waiting.size) throw new FrameError(`shared data ${waiting.hash.slice(0, 12)}: more than the ${waiting.size} bytes its version announced`);
    waiting.bytes ??= allocateForDecode(waiting.size, chunk[0]!);
    chunk.copy(waiting.bytes, waiting.received);
    waiting.received = end;
    if (more) return;
    if (end < waiting.size) throw new FrameError(`shared data ${waiting.hash.slice(0, 12)}: ${end} bytes, not the ${waiting.size} its version announced`);
    this.requests.delete(request);
    waiting.resolve(waiting.bytes);
  }

  /** A SharedFree frame: versions no queued or running op can read, and content nothing refers to. */
  free(free: SharedFree): void {
    for (const { key, epoch } of free.versions) {
      const list = this.versions.get(key)?.filter((v) => v.epoch !== epoch);
      if (list && list.length > 0) this.versions.set(key, list);
      else this.versions.delete(key);
    }
    for (const hash of free.hashes) this.values.delete(hash);
  }

  private versionAt(key: string, epoch: number): SharedVersion | undefined {
    let found: SharedVersion | undefined;
    const versions = this.versions.get(key);
    if (versions) for (const v of versions) if (v.epoch <= epoch && (!found || v.epoch > found.epoch)) found = v;
    return found;
  }

  private fetch({ hash, size }: SharedVersion): Promise<unknown> {
    let value = this.values.get(hash);
    if (!value) {
      value = new Promise<Buffer>((resolve, reject) => {
        const request = this.nextRequest++;
        this.requests.set(request, { hash, size, received: 0, bytes: null, error: null, resolve, reject });
        this.ports.request(request, hash, size);
      }).then((bytes) => decodeInPlace(bytes));
      value.catch(() => this.values.delete(hash));
      this.values.set(hash, value);
    }
    return value;
  }
}

/** A value on its way from the agent. */
interface Request {
  hash: string;
  /** Its encoded size, from its SharedVersion. */
  size: number;
  received: number;
  /** Allocated when the first chunk arrives (its first byte says how to align a typed array). */
  bytes: Buffer | null;
  /** The chunks of an error sent instead of the value. */
  error: Buffer[] | null;
  resolve: (bytes: Buffer) => void;
  reject: (error: Error) => void;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(showValue(value));
}
