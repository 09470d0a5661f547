// Peer, and the ceiling for Marionette's design: a bare batched MessagePack echo over stdio pipes.
//
// Frames are a u32 LE length and a MessagePack [id, x]. The parent queues the frames of all calls
// made in one turn and writes them in one stdout write per setImmediate; the child answers all
// frames of one input chunk in one write; the parent decodes replies and settles promises by id.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Packr } from "msgpackr";
import { measure, type Method, type PeerResult } from "../stats.ts";
import { exitError, stopChild, track } from "./children.ts";

export interface RawPipeEchoPeerOptions {
  method?: Partial<Method>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const CHILD = fileURLToPath(new URL("./raw-pipe-echo-child.mjs", import.meta.url));

export async function runRawPipeEchoPeer(options: RawPipeEchoPeerOptions = {}): Promise<PeerResult> {
  const child = track(spawn(process.execPath, [CHILD], { stdio: ["pipe", "pipe", "inherit"] }));
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    const echo = new EchoClient(child);
    return await measure({ name: "raw pipe echo (msgpack, 1 child)", call: () => echo.call(0), method: options.method });
  } finally {
    await stopChild(child, () => child.stdin.end());
  }
}

class EchoClient {
  readonly #packr = new Packr({ useRecords: false });
  readonly #pending = new Map<number, Pending>();
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  #nextId = 0;
  #rest: Buffer | null = null;

  constructor(child: ChildProcessByStdio<Writable, Readable, null>) {
    this.#child = child;
    child.stdout.on("data", (chunk: Buffer) => this.#onData(chunk));
    child.stdin.on("error", (error) => this.#failAll(error));
    child.once("exit", (code, signal) => this.#failAll(exitError("raw pipe echo child", code, signal)));
  }

  call(x: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      // Packr hands out slices it never overwrites, so they can wait for the flush.
      const payload = this.#packr.pack([id, x]);
      this.#queued.push(payload);
      this.#queuedBytes += 4 + payload.length;
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const out = Buffer.allocUnsafe(this.#queuedBytes);
    let at = 0;
    for (const payload of this.#queued) {
      out.writeUInt32LE(payload.length, at);
      out.set(payload, at + 4);
      at += 4 + payload.length;
    }
    this.#queued = [];
    this.#queuedBytes = 0;
    // No backpressure wait: the harness bounds what is outstanding (inFlight calls).
    this.#child.stdin.write(out);
  }

  #onData(chunk: Buffer): void {
    const input = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    let offset = 0;
    while (input.length - offset >= 4) {
      const length = input.readUInt32LE(offset);
      if (input.length - offset - 4 < length) break;
      const [id, result] = this.#packr.unpack(input.subarray(offset + 4, offset + 4 + length)) as [number, unknown];
      offset += 4 + length;
      const entry = this.#pending.get(id);
      if (!entry) continue;
      this.#pending.delete(id);
      entry.resolve(result);
    }
    this.#rest = offset < input.length ? input.subarray(offset) : null;
  }

  #failAll(error: Error): void {
    for (const entry of this.#pending.values()) entry.reject(error);
    this.#pending.clear();
  }
}
