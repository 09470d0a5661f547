// A slave: a child of the agent that loads the program bundle, holds one context and runs ops
// strictly one at a time, in the order they arrive. Frames travel on fd 3, so whatever user code
// prints on stdout/stderr can never corrupt the channel.
import { Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { errorFromThrown, showValue } from "../core/errors.ts";
import { decode, encode, errorToWire } from "../core/protocol/codec.ts";
import { FrameChannel, type IncomingFrame } from "../core/protocol/channel.ts";
import { FLAG_ERROR, FrameType } from "../core/protocol/frame.ts";
import type { SharedFree, SharedVersion, SlaveReady } from "../core/protocol/messages.ts";
import { streamTransport } from "../core/protocol/stream-transport.ts";
import { startLifeline } from "./lifeline.ts";

/** The agent reads heartbeats from this fd (see lifeline.ts); frames travel on fd 3. */
export const LIFELINE_FD = 4;

type AnyFn = (...args: unknown[]) => unknown;
interface LoadedProgram {
  init: () => unknown;
  worker: Record<string, AnyFn>;
  context?: Record<string, AnyFn>;
}

const PROGRAM_BRAND = Symbol.for("marionette-mnt.program");

export async function runSlave(): Promise<void> {
  const slaveId = Number(process.env.MNT_SLAVE_ID);
  const slot = Number(process.env.MNT_SLOT);
  startLifeline(LIFELINE_FD, Number(process.env.MNT_SLAVE_HEARTBEAT_MS) || 500);
  const socket = new Socket({ fd: 3, readable: true, writable: true });
  const channel = new FrameChannel(streamTransport(socket, socket), { peer: "agent" });
  // The agent closed the channel (a clean stop) or went away: exit once what user code printed has
  // been written out (process.exit would drop output still queued on the stdout/stderr pipes).
  channel.onClose(() => {
    setTimeout(() => process.exit(0), 2000).unref();
    process.stdout.write("", () => process.stderr.write("", () => process.exit(0)));
  });

  const early: IncomingFrame[] = [];
  let handle: (frame: IncomingFrame) => void = (frame) => early.push(frame);
  channel.onFrame((frame) => handle(frame));

  let program: LoadedProgram;
  let context: unknown;
  try {
    const module = (await import(pathToFileURL(process.env.MNT_PROGRAM!).href)) as { default?: unknown };
    const candidate = module.default as Record<symbol, unknown> | undefined;
    if (!candidate || candidate[PROGRAM_BRAND] !== true) throw new Error("the program's default export is not a defineProgram(...) result");
    program = candidate as unknown as LoadedProgram;
    context = await program.init();
  } catch (error) {
    channel.send(FrameType.SlaveReady, slaveId, 0, encode(errorToWire(errorFromThrown(error, "init"))), FLAG_ERROR);
    channel.flush();
    setTimeout(() => process.exit(1), 100);
    return;
  }

  const workerNames = Object.keys(program.worker).sort();
  const contextNames = Object.keys(program.context ?? {}).sort();
  const workerFns = workerNames.map((name) => program.worker[name]!);
  const contextFns = contextNames.map((name) => program.context![name]!);
  const info = { id: slaveId, slot, host: process.env.MNT_HOST ?? "", arch: process.arch, pid: process.pid };
  const ready: SlaveReady = { pid: process.pid, worker: workerNames, context: contextNames };
  channel.send(FrameType.SlaveReady, slaveId, 0, encode(ready));

  // Shared data: which hash each key has from which epoch on, and the values fetched so far.
  const sharedVersions = new Map<string, SharedVersion[]>();
  const sharedValues = new Map<string, Promise<unknown>>();
  const sharedRequests = new Map<number, { resolve: (bytes: Buffer) => void; reject: (error: Error) => void }>();
  let nextRequest = 1;

  const fetchShared = (hash: string): Promise<unknown> => {
    let value = sharedValues.get(hash);
    if (!value) {
      value = new Promise<Buffer>((resolve, reject) => {
        const request = nextRequest++;
        sharedRequests.set(request, { resolve, reject });
        channel.send(FrameType.SharedGet, slaveId, request, Buffer.from(hash));
        channel.flush();
      }).then((bytes) => decode(bytes));
      value.catch(() => sharedValues.delete(hash));
      sharedValues.set(hash, value);
    }
    return value;
  };
  const sharedReaderAt = (epoch: number) => ({
    get<T>(key: string): Promise<T> {
      const versions = sharedVersions.get(key);
      let found: SharedVersion | undefined;
      if (versions) for (const v of versions) if (v.epoch <= epoch && (!found || v.epoch > found.epoch)) found = v;
      if (!found) return Promise.reject(new Error(`shared.get(${JSON.stringify(key)}): the master set no value under this key before issuing this op`));
      return fetchShared(found.hash) as Promise<T>;
    },
  });

  // Ops run one at a time: the next starts only when the previous one's promise has settled.
  const queue: IncomingFrame[] = [];
  let head = 0;
  let busy = false;
  let appliedContext = 0;
  let current: { id: number; controller: AbortController | null } | null = null;
  const cancelled = new Set<number>();

  const runLoop = (): void => {
    busy = true;
    while (head < queue.length) {
      const frame = queue[head++]!;
      const pending = frame.type === FrameType.Op ? runOp(frame) : runContext(frame);
      if (pending) {
        pending.then(runLoop);
        return;
      }
    }
    queue.length = 0;
    head = 0;
    busy = false;
    channel.flush();
  };

  const sendError = (type: FrameType, id: number, error: Error, head?: Buffer) => {
    const wire = errorToWire(error);
    let body: Buffer;
    try {
      body = encode(wire);
    } catch {
      body = encode({ name: wire.name, message: wire.message, stack: wire.stack });
    }
    channel.send(type, slaveId, id, head ? Buffer.concat([head, body]) : body, FLAG_ERROR);
  };

  const runOp = (frame: IncomingFrame): PromiseLike<void> | void => {
    const { payload, id } = frame;
    const nameIndex = payload.readUInt16LE(0);
    const epoch = payload.readUInt32LE(2);
    const ctxVersion = payload.readUInt32LE(6);
    const attempt = payload.readUInt16LE(10);
    const started = performance.now();
    const timing = () => {
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32LE(Math.min(0xffffffff, Math.round((performance.now() - started) * 1000)), 0);
      return head;
    };
    if (cancelled.delete(id)) return sendError(FrameType.Result, id, abortError(), timing());
    const name = workerNames[nameIndex]!;
    if (ctxVersion !== appliedContext) {
      return sendError(FrameType.Result, id, new Error(`internal: op ${name} expected context version ${ctxVersion}, slave has ${appliedContext}`), timing());
    }
    let controller: AbortController | null = null;
    const opContext = {
      shared: sharedReaderAt(epoch),
      get signal() {
        controller ??= new AbortController();
        current!.controller = controller;
        return controller.signal;
      },
      slave: info,
      attempt,
    };
    current = { id, controller: null };
    const ok = (value: unknown) => {
      current = null;
      let body: Buffer;
      try {
        body = encode(value, `result of ${name}`);
      } catch (error) {
        return sendError(FrameType.Result, id, error as Error, timing());
      }
      const head = timing();
      channel.send(FrameType.Result, slaveId, id, Buffer.concat([head, body], 4 + body.length));
    };
    const fail = (error: unknown) => {
      current = null;
      sendError(FrameType.Result, id, errorFromThrown(error, name), timing());
    };
    try {
      const input = payload.length > 12 ? decode(payload.subarray(12)) : undefined;
      const out = workerFns[nameIndex]!(context, input, opContext);
      if (isThenable(out)) return out.then(ok, fail);
      ok(out);
    } catch (error) {
      fail(error);
    }
  };

  const runContext = (frame: IncomingFrame): PromiseLike<void> | void => {
    const { payload, id: seq } = frame;
    if (seq !== appliedContext + 1) {
      appliedContext = seq;
      return sendError(FrameType.ContextAck, seq, new Error(`internal: context op ${seq} arrived after ${appliedContext}`));
    }
    const nameIndex = payload.readUInt16LE(0);
    const name = contextNames[nameIndex]!;
    const ack = () => {
      appliedContext = seq;
      channel.send(FrameType.ContextAck, slaveId, seq);
    };
    const fail = (error: unknown) => {
      appliedContext = seq;
      sendError(FrameType.ContextAck, seq, errorFromThrown(error, name));
    };
    try {
      const input = payload.length > 2 ? decode(payload.subarray(2)) : undefined;
      const out = contextFns[nameIndex]!(context, input);
      if (isThenable(out)) return out.then(ack, fail);
      ack();
    } catch (error) {
      fail(error);
    }
  };

  handle = (frame) => {
    switch (frame.type) {
      case FrameType.Op:
      case FrameType.Context:
        queue.push(frame);
        if (head > 4096) {
          queue.splice(0, head);
          head = 0;
        }
        if (!busy) runLoop();
        return;
      case FrameType.Cancel:
        if (current?.id === frame.id) current.controller?.abort(abortError());
        else cancelled.add(frame.id);
        return;
      case FrameType.SharedVersion: {
        const version = decode(frame.payload) as SharedVersion;
        const list = sharedVersions.get(version.key);
        if (list) list.push(version);
        else sharedVersions.set(version.key, [version]);
        return;
      }
      case FrameType.SharedData: {
        const request = sharedRequests.get(frame.id);
        if (!request) return;
        sharedRequests.delete(frame.id);
        if (frame.flags & FLAG_ERROR) request.reject(toError(decode(frame.payload)));
        else request.resolve(frame.payload);
        return;
      }
      case FrameType.SharedFree: {
        const free = decode(frame.payload) as SharedFree;
        for (const { key, epoch } of free.versions) {
          const list = sharedVersions.get(key)?.filter((v) => v.epoch !== epoch);
          if (list && list.length > 0) sharedVersions.set(key, list);
          else sharedVersions.delete(key);
        }
        for (const hash of free.hashes) sharedValues.delete(hash);
        return;
      }
      default:
        return;
    }
  };
  for (const frame of early.splice(0)) handle(frame);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function abortError(): Error {
  const error = new Error("the op was cancelled");
  error.name = "AbortError";
  return error;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(showValue(value));
}
