// A slave's ops, strictly one at a time in arrival order: the next op (worker or context) starts only
// once the previous one's promise has settled, so a worker op that awaits (op.shared.get) never sees
// a context op issued after it. Checks each worker op's context version against the context ops
// applied, answers cancels, and times each op (the master sizes pipelines from service times).
// Pure: no I/O, the frames it answers with go to an OpOutput.
import { errorFromThrown } from "../core/errors.ts";
import { decode, encode } from "../core/protocol/codec.ts";
import { FLAG_ERROR, FrameType } from "../core/protocol/frame.ts";
import { isHostLimitError } from "../core/protocol/host-room.ts";
import { decodeContext, decodeOp, encodeResultPayload, type OpHeader } from "../core/protocol/op-frames.ts";
import { programErrorToWire } from "./error-stack.ts";
import type { ProgramOps } from "./program-loader.ts";
import type { SharedView } from "./shared-reader.ts";

/** Where answers go: Result and ContextAck frames to the master (a FrameChannel, slave id bound). */
export interface OpOutput {
  send(type: FrameType, id: number, payload?: Uint8Array, flags?: number): void;
  /** Sends what is queued now (once the queue ran dry and the whole read was handed over: answers do not wait for the next tick). */
  flush(): void;
}

/** `op.slave` as user code sees it. */
export interface SlaveInfo {
  id: number;
  slot: number;
  host: string;
  arch: string;
  pid: number;
}

export interface OpRunnerOptions {
  ops: ProgramOps;
  /** The slave's context, as init made it. */
  context: unknown;
  slave: SlaveInfo;
  /** What an op issued at `epoch` reads as `op.shared`. */
  shared: (epoch: number) => SharedView;
  out: OpOutput;
  /** Milliseconds, for service times; default performance.now. */
  now?: () => number;
  /**
   * Told before each op starts: the worker op's id, or 0 for a context op. Answers leave in
   * batches, so should the slave die, this (not the master's oldest unanswered op) says which op
   * it was running (running-op.ts).
   */
  starting?: (opId: number) => void;
}

type Queued = ({ kind: "op"; id: number } & OpHeader & { input: Buffer }) | { kind: "context"; seq: number; nameIndex: number; input: Buffer };

/** The op running now; its signal's controller is made only when user code asks for `op.signal`. */
interface Running {
  id: number;
  controller: AbortController | null;
  /** A shared value it read that this host cannot hold (HostLimitError), or null. */
  refusal: Error | null;
}

export class OpRunner {
  private readonly queue: Queued[] = [];
  private head = 0;
  private busy = false;
  private appliedContext = 0;
  private current: Running | null = null;
  /** Ops cancelled before they started: they answer AbortError without running. */
  private readonly cancelled = new Set<number>();
  private readonly now: () => number;

  constructor(private readonly options: OpRunnerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Context ops applied so far (the sequence number of the last one). */
  get contextVersion(): number {
    return this.appliedContext;
  }

  /** An Op frame. Its payload is decoded now: a malformed one throws FrameError (the channel fails). */
  addOp(id: number, payload: Buffer): void {
    this.enqueue({ kind: "op", id, ...decodeOp(payload) });
  }

  /** A Context frame (its id is the context op's sequence number). */
  addContext(seq: number, payload: Buffer): void {
    this.enqueue({ kind: "context", seq, ...decodeContext(payload) });
  }

  /** A Cancel frame: aborts the running op's signal, or marks a queued op to answer without running. */
  cancel(id: number): void {
    if (this.current?.id === id) this.current.controller?.abort(abortError());
    else this.cancelled.add(id);
  }

  private enqueue(entry: Queued): void {
    this.queue.push(entry);
    if (this.head > 4096) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (!this.busy) this.runLoop();
  }

  private readonly runLoop = (): void => {
    this.busy = true;
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head++]!;
      const pending = entry.kind === "op" ? this.runOp(entry) : this.runContext(entry);
      if (pending) {
        pending.then(this.runLoop);
        return;
      }
    }
    this.queue.length = 0;
    this.head = 0;
    this.busy = false;
    // The channel hands over the frames of one read one at a time, and synchronous ops empty the
    // queue after each: flushing here would write once per op (one wake-up of the agent each).
    // A microtask runs after the whole read was handed over, so its answers leave in one write.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushAnswers);
    }
  };

  private flushQueued = false;
  private readonly flushAnswers = (): void => {
    this.flushQueued = false;
    this.options.out.flush();
  };

  private runOp(op: Extract<Queued, { kind: "op" }>): PromiseLike<void> | void {
    const { id } = op;
    const started = this.now();
    const serviceUs = () => (this.now() - started) * 1000;
    if (this.cancelled.delete(id)) return this.sendError(FrameType.Result, id, abortError(), serviceUs());
    const { workerNames, workerFns } = this.options.ops;
    const name = workerNames[op.nameIndex]!;
    if (op.ctxVersion !== this.appliedContext) {
      return this.sendError(FrameType.Result, id, new Error(`internal: op ${name} expected context version ${op.ctxVersion}, slave has ${this.appliedContext}`), serviceUs());
    }
    this.options.starting?.(id);
    const running: Running = { id, controller: null, refusal: null };
    const sharedAt = this.options.shared;
    const opContext = {
      get shared() {
        return noteRefusals(sharedAt(op.epoch), running);
      },
      get signal() {
        running.controller ??= new AbortController();
        return running.controller.signal;
      },
      slave: this.options.slave,
      attempt: op.attempt,
    };
    this.current = running;
    const ok = (value: unknown) => {
      this.current = null;
      if (running.refusal !== null) return this.sendError(FrameType.Result, id, running.refusal, serviceUs());
      let body: Buffer;
      try {
        body = encode(value, `result of ${name}`);
      } catch (error) {
        return this.sendError(FrameType.Result, id, error as Error, serviceUs());
      }
      this.options.out.send(FrameType.Result, id, encodeResultPayload(serviceUs(), body));
    };
    const fail = (error: unknown) => {
      this.current = null;
      this.sendError(FrameType.Result, id, running.refusal ?? errorFromThrown(error, name), serviceUs());
    };
    try {
      const input = op.input.length > 0 ? decode(op.input) : undefined;
      // Called as a plain function: its stack frame reads `at name`, not `at Array.name`.
      const fn = workerFns[op.nameIndex]!;
      const out = fn(this.options.context, input, opContext);
      if (isThenable(out)) return out.then(ok, fail);
      ok(out);
    } catch (error) {
      fail(error);
    }
  }

  private runContext(entry: Extract<Queued, { kind: "context" }>): PromiseLike<void> | void {
    const { seq } = entry;
    if (seq !== this.appliedContext + 1) {
      const error = new Error(`internal: context op ${seq} arrived after ${this.appliedContext}`);
      this.appliedContext = seq;
      return this.sendError(FrameType.ContextAck, seq, error);
    }
    this.options.starting?.(0);
    const { contextNames, contextFns } = this.options.ops;
    const name = contextNames[entry.nameIndex]!;
    const ack = () => {
      this.appliedContext = seq;
      this.options.out.send(FrameType.ContextAck, seq);
    };
    const fail = (error: unknown) => {
      this.appliedContext = seq;
      this.sendError(FrameType.ContextAck, seq, errorFromThrown(error, name));
    };
    try {
      const input = entry.input.length > 0 ? decode(entry.input) : undefined;
      const fn = contextFns[entry.nameIndex]!;
      const out = fn(this.options.context, input);
      if (isThenable(out)) return out.then(ack, fail);
      ack();
    } catch (error) {
      fail(error);
    }
  }

  /**
   * An error answer; a Result's carries the service time. Its stack shows the program's frames only
   * (error-stack.ts). An error that cannot be encoded whole goes as name, message and stack.
   */
  private sendError(type: FrameType, id: number, error: Error, serviceUs?: number): void {
    const wire = programErrorToWire(error);
    let body: Buffer;
    try {
      body = encode(wire);
    } catch {
      body = encode({ name: wire.name, message: wire.message, stack: wire.stack });
    }
    this.options.out.send(type, id, serviceUs === undefined ? body : encodeResultPayload(serviceUs, body), FLAG_ERROR);
  }
}

/**
 * `op.shared`, noting a value this host cannot hold: the op then answers with that refusal whatever
 * it made of it (a caught error must not become a result computed without the value), and the
 * master runs it on a host that can hold it.
 */
function noteRefusals(view: SharedView, running: Running): SharedView {
  return {
    get: <T>(key: string): Promise<T> =>
      view.get<T>(key).catch((error: unknown) => {
        if (isHostLimitError(error)) running.refusal ??= error;
        throw error;
      }),
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function abortError(): Error {
  const error = new Error("the op was cancelled");
  error.name = "AbortError";
  return error;
}
