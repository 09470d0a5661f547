// The slave's op runner driven through a real FrameChannel over an in-memory transport: the test
// plays the master (Op, Context and Cancel frames built with op-frames.ts), the runner answers with
// Result and ContextAck frames. No processes.
import { expect } from "chai";
import { setTimeout as sleep } from "node:timers/promises";
import { FrameChannel, type IncomingFrame } from "../../core/protocol/channel.ts";
import { decode, encode, errorFromWire, type WireError } from "../../core/protocol/codec.ts";
import { FLAG_ERROR, FrameError, FrameType } from "../../core/protocol/frame.ts";
import { decodeResult, encodeContextPayload, encodeOpFrame, type OpHeader } from "../../core/protocol/op-frames.ts";
import { HOST_LIMIT_CODE, hostLimitError } from "../../core/protocol/host-room.ts";
import { OpRunner } from "../../remote-agent/op-runner.ts";
import { programOps, type LoadedProgram } from "../../remote-agent/program-loader.ts";
import { memoryTransportPair } from "../protocol/memory-transport.ts";

const SLAVE = 7;

interface Ctx {
  version: number;
  log: string[];
  stashed: { signal: AbortSignal } | null;
}

/** The program the runner runs; every op logs when it starts and ends. */
const program: LoadedProgram = {
  init: () => ({}),
  worker: {
    double: (_ctx, n) => (n as number) * 2,
    version: (ctx) => (ctx as Ctx).version,
    async slow(c, ms) {
      const ctx = c as Ctx;
      ctx.log.push(`slow start v${ctx.version}`);
      await sleep(ms as number);
      ctx.log.push(`slow end v${ctx.version}`);
      return ctx.version;
    },
    async waitForCancel(c, _input, op) {
      const ctx = c as Ctx;
      const { signal } = op as { signal: AbortSignal };
      // Touching the signal of an op that finished long ago must not steal this op's cancel.
      void ctx.stashed?.signal;
      await new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    },
    stash(c, _input, op) {
      (c as Ctx).stashed = op as { signal: AbortSignal };
      return "stashed";
    },
    fail: (_ctx, message) => {
      throw new RangeError(message as string);
    },
    unencodable: () => ({ callback: () => 1 }),
    async readOrDefault(_ctx, key, op) {
      try {
        return await (op as { shared: { get(key: string): Promise<unknown> } }).shared.get(key as string);
      } catch {
        return "default";
      }
    },
  },
  context: {
    setVersion(c, v) {
      (c as Ctx).version = v as number;
      (c as Ctx).log.push(`set v${v as number}`);
    },
    async setLater(c, v) {
      await sleep(5);
      (c as Ctx).version = v as number;
    },
    explode() {
      throw new Error("context op failed");
    },
  },
};
const ops = programOps(program);
const workerIndex = (name: string) => ops.workerNames.indexOf(name);
const contextIndex = (name: string) => ops.contextNames.indexOf(name);

interface Answer {
  type: number;
  id: number;
  error: boolean;
  /** The decoded value (an Error, rebuilt as the master does, for FLAG_ERROR); Result frames also carry serviceUs. */
  value: unknown;
  serviceUs?: number;
}

function setup(options: { now?: () => number } = {}) {
  const [masterEnd, slaveEnd] = memoryTransportPair();
  const master = new FrameChannel(masterEnd, { peer: "slave" });
  const channel = new FrameChannel(slaveEnd, { peer: "agent" });
  const ctx: Ctx = { version: 0, log: [], stashed: null };
  const runner = new OpRunner({
    ops,
    context: ctx,
    slave: { id: SLAVE, slot: 1, host: "test", arch: process.arch, pid: process.pid },
    shared: () => ({
      get: (key: string) => Promise.reject(key === "huge" ? hostLimitError(`shared value "huge" is 3 GiB, larger than the 1 GiB a 32-bit Node.js can allocate`) : new Error("no shared data here")),
    }),
    out: { send: (type, id, payload, flags) => channel.send(type, SLAVE, id, payload, flags), flush: () => channel.flush() },
    now: options.now,
  });
  channel.onFrame((frame: IncomingFrame) => {
    if (frame.type === FrameType.Op) runner.addOp(frame.id, frame.payload);
    else if (frame.type === FrameType.Context) runner.addContext(frame.id, frame.payload);
    else if (frame.type === FrameType.Cancel) runner.cancel(frame.id);
  });
  const answers: Answer[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  master.onFrame((frame) => {
    expect(frame.slave).to.equal(SLAVE);
    const error = (frame.flags & FLAG_ERROR) !== 0;
    const valueOf = (body: Buffer) => (error ? errorFromWire(decode(body) as WireError) : body.length > 0 ? decode(body) : undefined);
    if (frame.type === FrameType.Result) {
      const { serviceUs, body } = decodeResult(frame.payload);
      answers.push({ type: frame.type, id: frame.id, error, value: valueOf(body), serviceUs });
    } else {
      answers.push({ type: frame.type, id: frame.id, error, value: valueOf(frame.payload) });
    }
    if (waiter && answers.length >= waiter.n) waiter.resolve();
  });
  let ctxVersion = 0;
  return {
    masterEnd,
    slaveEnd,
    master,
    channel,
    ctx,
    runner,
    answers,
    /** Issues a worker op as the master would; `header` overrides the defaults. */
    op(id: number, name: string, input?: unknown, header: Partial<OpHeader> = {}) {
      const full: OpHeader = { nameIndex: workerIndex(name), epoch: 0, ctxVersion, attempt: 0, ...header };
      master.sendRaw(encodeOpFrame(SLAVE, id, full, input === undefined ? Buffer.alloc(0) : encode(input)));
    },
    context(name: string, input?: unknown, seq = ctxVersion + 1) {
      ctxVersion = seq;
      master.send(FrameType.Context, SLAVE, seq, encodeContextPayload(contextIndex(name), input === undefined ? Buffer.alloc(0) : encode(input)));
    },
    cancel(id: number) {
      master.send(FrameType.Cancel, SLAVE, id);
    },
    until(n: number, ms = 2000): Promise<Answer[]> {
      return new Promise((resolve, reject) => {
        if (answers.length >= n) return resolve(answers);
        const timer = setTimeout(() => reject(new Error(`got ${answers.length} of ${n} answers within ${ms} ms: ${JSON.stringify(answers)}`)), ms);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(answers);
          },
        };
      });
    },
  };
}

describe("agent: the slave's op runner", () => {
  it("runs worker ops and answers each with its result and service time, in order", async () => {
    let clock = 0;
    const t = setup({ now: () => (clock += 1.5) });
    for (let i = 1; i <= 5; i++) t.op(i, "double", i * 10);
    const answers = await t.until(5);
    expect(answers.map((a) => [a.type, a.id, a.error, a.value])).to.deep.equal([1, 2, 3, 4, 5].map((i) => [FrameType.Result, i, false, i * 20]));
    // Each op reads the clock at its start and once when it answers: 1.5 ms apart.
    for (const answer of answers) expect(answer.serviceUs).to.equal(1500);
  });

  it("an op with no input gets undefined", async () => {
    const t = setup();
    t.op(1, "double");
    expect((await t.until(1))[0]!.value).to.be.NaN;
  });

  it("strictly one at a time: a context op issued after an awaiting worker op waits for it, and the op after sees it", async () => {
    const t = setup();
    t.op(1, "slow", 30);
    t.context("setVersion", 1);
    t.op(2, "version");
    const answers = await t.until(3);
    expect(t.ctx.log).to.deep.equal(["slow start v0", "slow end v0", "set v1"]);
    expect(answers.map((a) => [a.type, a.id, a.value])).to.deep.equal([
      [FrameType.Result, 1, 0],
      [FrameType.ContextAck, 1, undefined],
      [FrameType.Result, 2, 1],
    ]);
    expect(t.runner.contextVersion).to.equal(1);
  });

  it("an async context op is awaited before the next worker op starts", async () => {
    const t = setup();
    t.context("setLater", 5);
    t.op(1, "version");
    const answers = await t.until(2);
    expect(answers[1]).to.deep.include({ id: 1, value: 5 });
  });

  it("a user exception answers that op with FLAG_ERROR and the error; the next op runs", async () => {
    const t = setup();
    t.op(1, "fail", "bad input");
    t.op(2, "double", 1);
    const [failed, next] = await t.until(2);
    expect(failed!.error).to.equal(true);
    expect(failed!.value).to.be.instanceOf(RangeError);
    expect((failed!.value as Error).message).to.equal("bad input");
    expect(next).to.deep.include({ id: 2, error: false, value: 2 });
  });

  it("a result that cannot be encoded answers with an error naming the op and the path", async () => {
    const t = setup();
    t.op(1, "unencodable");
    const [answer] = await t.until(1);
    expect(answer!.error).to.equal(true);
    expect((answer!.value as Error).message).to.match(/^result of unencodable cannot be encoded: \.callback is a function/);
  });

  it("a context op that throws is still applied (its version counts) and answers with the error", async () => {
    const t = setup();
    t.context("explode");
    t.op(1, "version");
    const [ack, result] = await t.until(2);
    expect(ack).to.deep.include({ type: FrameType.ContextAck, id: 1, error: true });
    expect((ack!.value as Error).message).to.equal("context op failed");
    expect(result).to.deep.include({ id: 1, error: false });
  });

  it("an op expecting another context version answers with an internal error naming both", async () => {
    const t = setup();
    t.op(1, "version", undefined, { ctxVersion: 3 });
    const [answer] = await t.until(1);
    expect(answer!.error).to.equal(true);
    expect((answer!.value as Error).message).to.equal("internal: op version expected context version 3, slave has 0");
  });

  it("a context op out of sequence answers with an error naming it and the version the slave had", async () => {
    const t = setup();
    t.context("setVersion", 1);
    t.context("setVersion", 5, 5);
    const [, skipped] = await t.until(2);
    expect(skipped).to.deep.include({ type: FrameType.ContextAck, id: 5, error: true });
    expect((skipped!.value as Error).message).to.equal("internal: context op 5 arrived after 1");
  });

  it("answers to ops that arrived in one read leave in one write, not one write per op", async () => {
    const { op, until, masterEnd, slaveEnd } = setup();
    for (let id = 1; id <= 50; id++) op(id, "double", id);
    const answers = await until(50);
    expect(answers.map((a) => a.value)).to.deep.equal(Array.from({ length: 50 }, (_, i) => (i + 1) * 2));
    expect(masterEnd.writes, "the master's 50 ops went in one write (one read at the slave)").to.have.length(1);
    expect(slaveEnd.writes, "the slave's writes for 50 ops handed over in one read").to.have.length(1);
  });

  describe("cancel", () => {
    it("a running op sees its signal abort and answers with AbortError", async () => {
      const t = setup();
      t.op(1, "waitForCancel");
      await sleep(20);
      t.cancel(1);
      const [answer] = await t.until(1);
      expect(answer!.error).to.equal(true);
      expect((answer!.value as Error).name).to.equal("AbortError");
      expect((answer!.value as Error).message).to.equal("the op was cancelled");
    });

    it("a queued op cancelled before it starts answers AbortError without running", async () => {
      const t = setup();
      t.op(1, "slow", 30);
      t.op(2, "slow", 30);
      t.cancel(2);
      const answers = await t.until(2);
      expect(answers[1]).to.deep.include({ id: 2, error: true });
      expect((answers[1]!.value as Error).name).to.equal("AbortError");
      expect(t.ctx.log.filter((line) => line.startsWith("slow start")), "the cancelled op never started").to.have.length(1);
    });

    it("the signal of an op that finished long ago does not take the running op's cancel", async () => {
      const t = setup();
      t.op(1, "stash");
      t.op(2, "waitForCancel");
      await sleep(20);
      t.cancel(2);
      const answers = await t.until(2);
      expect(answers[1]).to.deep.include({ id: 2, error: true });
      expect((answers[1]!.value as Error).name).to.equal("AbortError");
    });
  });

  it("an Op payload too short for its prefix closes the channel with a FrameError naming the peer", async () => {
    const t = setup();
    const closed = new Promise<Error | undefined>((resolve) => t.channel.onClose(resolve));
    t.master.send(FrameType.Op, SLAVE, 1, Buffer.alloc(5));
    const error = await closed;
    expect(error).to.be.instanceOf(FrameError);
    expect(error!.message).to.equal("agent: Op payload of 5 bytes: shorter than its 12-byte prefix");
  });

  it("a shared value the host cannot hold is the op's answer even if the op caught it (the master runs it elsewhere); other errors are the op's own", async () => {
    const t = setup();
    t.op(1, "readOrDefault", "huge");
    t.op(2, "readOrDefault", "missing");
    const [refused, caught] = await t.until(2);
    expect(refused!.error).to.equal(true);
    expect((refused!.value as Error & { code?: unknown }).code).to.equal(HOST_LIMIT_CODE);
    expect((refused!.value as Error).message).to.equal(`shared value "huge" is 3 GiB, larger than the 1 GiB a 32-bit Node.js can allocate`);
    expect(caught).to.deep.include({ error: false, value: "default" });
  });
});
