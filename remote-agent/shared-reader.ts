// A slave's view of shared data: which hash each key has from which epoch on (SharedVersion frames,
// sent at once by the master), the values fetched so far (by hash, once per slave) and the requests
// waiting for bytes from the agent's cache (shared-relay.ts). An op reads the version current when
// the master issued it: `at(epoch)`.
import { showValue } from "../core/errors.ts";
import { decode } from "../core/protocol/codec.ts";
import { FLAG_ERROR } from "../core/protocol/frame.ts";
import type { SharedFree, SharedVersion } from "../core/protocol/messages.ts";

export interface SharedReaderPorts {
  /** Asks the agent for the bytes of `hash` (a SharedGet frame, sent now: an op is waiting). */
  request(request: number, hash: string): void;
}

export interface SharedView {
  get<T>(key: string): Promise<T>;
}

export class SharedReader {
  private readonly versions = new Map<string, SharedVersion[]>();
  private readonly values = new Map<string, Promise<unknown>>();
  private readonly requests = new Map<number, { resolve: (bytes: Buffer) => void; reject: (error: Error) => void }>();
  private nextRequest = 1;

  constructor(private readonly ports: SharedReaderPorts) {}

  /** What ops issued at `epoch` read. */
  at(epoch: number): SharedView {
    return {
      get: <T>(key: string): Promise<T> => {
        const found = this.versionAt(key, epoch);
        if (!found) return Promise.reject(new Error(`shared.get(${JSON.stringify(key)}): the master set no value under this key before issuing this op`));
        return this.fetch(found.hash) as Promise<T>;
      },
    };
  }

  /** A SharedVersion frame: `key` reads `hash` for ops issued at `epoch` or later. */
  addVersion(version: SharedVersion): void {
    const list = this.versions.get(version.key);
    if (list) list.push(version);
    else this.versions.set(version.key, [version]);
  }

  /** A SharedData message from the agent: the whole value, or (FLAG_ERROR) why it cannot come. */
  receive(request: number, flags: number, payload: Buffer): void {
    const waiting = this.requests.get(request);
    if (!waiting) return;
    this.requests.delete(request);
    if (flags & FLAG_ERROR) waiting.reject(toError(decode(payload)));
    else waiting.resolve(payload);
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

  private fetch(hash: string): Promise<unknown> {
    let value = this.values.get(hash);
    if (!value) {
      value = new Promise<Buffer>((resolve, reject) => {
        const request = this.nextRequest++;
        this.requests.set(request, { resolve, reject });
        this.ports.request(request, hash);
      }).then((bytes) => decode(bytes));
      value.catch(() => this.values.delete(hash));
      this.values.set(hash, value);
    }
    return value;
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(showValue(value));
}
