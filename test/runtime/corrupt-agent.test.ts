// A master Runtime whose agent is a fake on the other end of an in-memory transport, writing garbage,
// broken frames or a bad hello. The master must say which host failed and why, stop the run when no
// agent is left, and reject every op instead of leaving it pending.
import { expect } from "chai";
import fc from "fast-check";
import { encode } from "../../core/protocol/codec.ts";
import { FLAG_MORE, FRAME_MAGIC, FrameType, HEADER_BYTES, encodeFrame, DEFAULT_MAX_PAYLOAD } from "../../core/protocol/frame.ts";
import { PROTOCOL_VERSION, type Hello } from "../../core/protocol/messages.ts";
import { MntError } from "../../core/errors.ts";
import type { Transport } from "../../core/protocol/channel.ts";
import { Runtime, type AgentSpec, type RuntimeEvent } from "../../core/runtime/runtime.ts";
import { memoryTransportPair, type MemoryEnd } from "../protocol/memory-transport.ts";

const HOST = "fake";
/** The highest known frame type. */
const LAST_TYPE = Math.max(...Object.values(FrameType));

function hello(overrides: Partial<Hello> = {}): Hello {
  return { protocol: PROTOCOL_VERSION, build: "0123456789ab", arch: "x64", platform: "linux", node: "20.19.0", napi: "9", hostname: HOST, cores: 2, pid: 4242, byteOrder: "LE", wordBits: 64, maxBufferBytes: 2 ** 32, freeMemoryBytes: 2 ** 34, startupMs: 150, ...overrides };
}

const helloFrame = (overrides: Partial<Hello> = {}): Buffer => encodeFrame(FrameType.Hello, 0, 0, encode(hello(overrides)));

/** What the master is told went wrong (any of these, and always naming the host); the random cases reach each one. */
const EVERY_WAY =
  /not a frame|unknown frame type|oversized frame|truncated frame|speaks protocol|first frame was not a hello|connection closed|unexpected frame type|frame handler failed/;
/** ...or a Result or ContextAck frame too short for its fixed prefix (op-frames.ts), which random frames may reach. */
const WHAT_WENT_WRONG = new RegExp(`${EVERY_WAY.source}|payload of \\d+ bytes: shorter than its \\d+-byte prefix`);

interface Outcome {
  added: { hello: Hello } | { error: Error };
  op: { value: unknown } | { error: Error };
  events: RuntimeEvent[];
  runtime: Runtime;
}

/** Rejects when `promise` is still pending after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function newRuntime(): { runtime: Runtime; events: RuntimeEvent[]; fatal: Promise<MntError> } {
  // A fake agent cannot be started again: the first loss sets the host aside.
  const runtime = new Runtime({ workerNames: ["noop"], contextNames: [], expectedBuild: null, maxAgentFailures: 1 });
  const events: RuntimeEvent[] = [];
  let onFatal: (error: MntError) => void = () => {};
  const fatal = new Promise<MntError>((resolve) => (onFatal = resolve));
  runtime.onEvent((event) => {
    events.push(event);
    if (event.kind === "fatal") onFatal(event.error);
  });
  return { runtime, events, fatal };
}

function onceConnector(transport: Transport): AgentSpec["connect"] {
  let used = false;
  return async () => {
    if (used) throw new Error("a fake agent cannot be started twice");
    used = true;
    return { transport, close: async () => transport.close() };
  };
}

function addFakeAgent(runtime: Runtime, host = HOST): { agent: MemoryEnd; added: Promise<Outcome["added"]> } {
  const [master, agent] = memoryTransportPair();
  const added = runtime.addAgent({ host, connect: onceConnector(master), slots: 1, programPath: "/srv/program.js" }).then(
    (h) => ({ hello: h }),
    (error: Error) => ({ error }),
  );
  return { agent, added };
}

/**
 * Runs one case: a runtime with one fake agent and one worker op; `play` writes what the agent
 * sends (each write is delivered as its own chunk), then the agent's stream ends unless `keepOpen`.
 */
async function runCase(play: (agent: MemoryEnd) => void, options: { keepOpen?: boolean; ms?: number; label?: string } = {}): Promise<Outcome> {
  const { runtime, events, fatal } = newRuntime();
  const { agent, added } = addFakeAgent(runtime);
  const op = runtime.issueWorker(0, "noop", 1, undefined).then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  play(agent);
  if (!options.keepOpen) agent.close();
  try {
    const [addedResult, opResult] = await within(Promise.all([added, op, fatal]), options.ms ?? 2000, options.label ?? "the case");
    return { added: addedResult, op: opResult, events, runtime };
  } finally {
    runtime.close();
  }
}

/** The checks every corrupt agent must pass: the host and the problem named, fatal, op rejected. */
function expectLost(outcome: Outcome, what: RegExp): string {
  const lost = outcome.events.filter((e): e is Extract<RuntimeEvent, { kind: "agent.lost" }> => e.kind === "agent.lost");
  expect(lost, "one agent.lost event").to.have.length(1);
  const { host, reason } = lost[0]!;
  expect(host).to.equal(HOST);
  expect(reason, "the reason names the host").to.match(/(^|agent on )fake\b/);
  expect(reason).to.match(what);

  const kinds = outcome.events.map((e) => e.kind);
  expect(kinds.filter((k) => k === "fatal"), "one fatal event").to.have.length(1);
  expect(kinds.indexOf("fatal")).to.be.greaterThan(kinds.indexOf("agent.lost"));
  if (kinds.includes("agent.up")) expect(kinds.indexOf("agent.up"), "agent.up comes before agent.lost").to.be.lessThan(kinds.indexOf("agent.lost"));
  const fatal = outcome.events.find((e) => e.kind === "fatal") as Extract<RuntimeEvent, { kind: "fatal" }>;
  expect(fatal.error).to.be.instanceOf(MntError);
  expect(fatal.error.code).to.equal("infrastructure");
  expect(fatal.error.message).to.include(reason);
  expect(outcome.runtime.fatalError).to.equal(fatal.error);

  expect(outcome.op, "the worker op is rejected").to.have.property("error");
  const opError = (outcome.op as { error: Error }).error;
  expect(opError).to.be.instanceOf(Error);
  expect(opError.message).to.include(reason);

  if ("error" in outcome.added) {
    expect(outcome.added.error.message, "addAgent rejects with the same reason").to.equal(reason);
    expect(kinds, "no agent.up for an agent that never said hello properly").to.not.include("agent.up");
  } else {
    expect(kinds).to.include("agent.up");
  }
  return reason;
}

describe("Runtime with a corrupt agent", function () {
  this.timeout(30_000);

  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(() => process.on("unhandledRejection", onUnhandled));
  after(() => process.off("unhandledRejection", onUnhandled));
  afterEach(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled, "unhandled promise rejections").to.deep.equal([]);
  });

  describe("before the hello", () => {
    it("text instead of frames: addAgent rejects naming the host and 'not a frame'", async () => {
      const outcome = await runCase((agent) => agent.write(Buffer.from("bash: node: command not found\n")));
      expect("error" in outcome.added).to.equal(true);
      const reason = expectLost(outcome, /^agent on fake: bad frame start byte 0x62 \('b'\): the peer wrote something that is not a frame$/);
      expect((outcome.added as { error: Error }).error).to.be.instanceOf(Error);
      expect(reason).to.not.equal("");
    });

    it("a hello with the wrong protocol version: names both versions", async () => {
      const outcome = await runCase((agent) => agent.write(helloFrame({ protocol: PROTOCOL_VERSION + 1 })));
      expect("error" in outcome.added).to.equal(true);
      const error = (outcome.added as { error: Error }).error;
      expect(error).to.be.instanceOf(MntError);
      expect((error as MntError).code).to.equal("protocol");
      expectLost(outcome, new RegExp(`^fake: the agent speaks protocol ${PROTOCOL_VERSION + 1}, this master speaks ${PROTOCOL_VERSION}`));
    });

    it("the wrong protocol version is refused even when the agent keeps the connection open", async () => {
      const outcome = await runCase((agent) => agent.write(helloFrame({ protocol: 0 })), { keepOpen: true });
      expectLost(outcome, /speaks protocol 0/);
    });

    it("a hello from a Node.js that is too old", async () => {
      const outcome = await runCase((agent) => agent.write(helloFrame({ node: "16.20.2" })), { keepOpen: true });
      expectLost(outcome, /^fake: Node\.js 16\.20\.2 is too old/);
    });

    it("a first frame that is not a hello", async () => {
      const outcome = await runCase((agent) => agent.write(encodeFrame(FrameType.Result, 1, 1, Buffer.alloc(4))), { keepOpen: true });
      expectLost(outcome, /^fake: the agent's first frame was not a hello$/);
    });

    it("an oversized first frame is refused from its header alone", async () => {
      const header = encodeFrame(FrameType.Hello, 0, 0);
      header.writeUInt32LE(DEFAULT_MAX_PAYLOAD + 1, 4);
      const outcome = await runCase((agent) => agent.write(header), { keepOpen: true });
      expectLost(outcome, /^agent on fake: oversized frame/);
    });

    it("a hello cut short by the end of the stream", async () => {
      const frame = helloFrame();
      const outcome = await runCase((agent) => agent.write(frame.subarray(0, frame.length - 5)));
      expectLost(outcome, /^agent on fake: truncated frame \(stream ended inside a frame, \d+ bytes in\)$/);
    });

    it("an agent that ends its stream without a word", async () => {
      const outcome = await runCase(() => {});
      expectLost(outcome, /^fake: the agent's connection closed$/);
    });

    it("hellos that do not decode name the host", async () => {
      const payloads = [Buffer.alloc(0), Buffer.from([0xc1]), encode(hello()).subarray(0, 10), encode(null), encode(42), encode({ ...hello(), node: undefined })];
      for (const payload of payloads) {
        const outcome = await runCase((agent) => agent.write(encodeFrame(FrameType.Hello, 0, 0, payload)));
        expectLost(outcome, /hello/);
      }
    });

    it("an agent that prints 'hi\\n' and waits is lost at once", async () => {
      const outcome = await runCase((agent) => agent.write(Buffer.from("hi\n")), { keepOpen: true, ms: 1000 });
      expectLost(outcome, /not a frame/);
    });
  });

  describe("after a valid hello", () => {
    it("garbage: addAgent resolves, then agent.lost names the host, fatal follows, the op is rejected", async () => {
      const outcome = await runCase((agent) => {
        agent.write(helloFrame());
        agent.write(Buffer.from("Segmentation fault (core dumped)\n"));
      });
      expect(outcome.added).to.have.property("hello");
      expect((outcome.added as { hello: Hello }).hello.hostname).to.equal(HOST);
      expectLost(outcome, /^agent on fake: bad frame start byte 0x53 \('S'\): the peer wrote something that is not a frame$/);
    });

    it("a truncated frame", async () => {
      const frame = encodeFrame(FrameType.Log, 0, 0, Buffer.from("a line the agent never finished"));
      const outcome = await runCase((agent) => {
        agent.write(helloFrame());
        agent.write(frame.subarray(0, 20));
      });
      expectLost(outcome, /^agent on fake: truncated frame \(stream ended inside a frame, 20 bytes in\)$/);
    });

    it("an oversized frame", async () => {
      const header = encodeFrame(FrameType.Result, 1, 1);
      header.writeUInt32LE(0xfffffff0, 4);
      const outcome = await runCase(
        (agent) => {
          agent.write(helloFrame());
          agent.write(header);
        },
        { keepOpen: true },
      );
      expectLost(outcome, /^agent on fake: oversized frame: 4294967280 bytes/);
    });

    it("an unknown frame type", async () => {
      const frame = encodeFrame(FrameType.Log, 0, 0);
      frame[1] = 200;
      const outcome = await runCase(
        (agent) => {
          agent.write(helloFrame());
          agent.write(frame);
        },
        { keepOpen: true },
      );
      expectLost(outcome, /^agent on fake: unknown frame type 200$/);
    });

    it("a frame type the master never receives (an Op)", async () => {
      const outcome = await runCase(
        (agent) => {
          agent.write(helloFrame());
          agent.write(encodeFrame(FrameType.Op, 1, 1, Buffer.alloc(12)));
        },
        { keepOpen: true },
      );
      expectLost(outcome, /^fake: unexpected frame type 7 from the agent$/);
    });

    it("a SlaveExit whose payload does not decode", async () => {
      const outcome = await runCase(
        (agent) => {
          agent.write(helloFrame());
          // Slave 1 is the first slave the master asks for after the hello.
          agent.write(encodeFrame(FrameType.SlaveExit, 1, 0, Buffer.from([0xc1, 0xc1, 0xc1])));
        },
        { keepOpen: true },
      );
      expectLost(outcome, /^agent on fake: frame handler failed: /);
    });

    it("a second hello with the wrong protocol", async () => {
      const outcome = await runCase((agent) => {
        agent.write(helloFrame());
        agent.write(helloFrame({ protocol: 99 }));
      });
      expectLost(outcome, /^fake: unexpected frame type 1 from the agent$/);
    });

    it("an agent that reports Fatal: its message is the reason", async () => {
      const outcome = await runCase(
        (agent) => {
          agent.write(helloFrame());
          agent.write(encodeFrame(FrameType.Fatal, 0, 0, encode("cannot write to /tmp: ENOSPC")));
        },
        { keepOpen: true },
      );
      expectLost(outcome, /^fake: cannot write to \/tmp: ENOSPC$/);
    });

    it("after the fatal event, a new worker op is rejected at once with the same error", async () => {
      const outcome = await runCase((agent) => agent.write(Buffer.from("garbage garbage garbage")));
      const error = await within(
        outcome.runtime.issueWorker(0, "noop", 2, undefined).then(
          () => expect.fail("the op resolved"),
          (e: unknown) => e,
        ),
        500,
        "an op issued after fatal",
      );
      expect(error).to.equal(outcome.runtime.fatalError);
    });

    it("a hello and garbage in one chunk: no agent.up after agent.lost", async () => {
      const outcome = await runCase((agent) => agent.write(Buffer.concat([helloFrame(), Buffer.from("garbage after the hello")])));
      expectLost(outcome, /not a frame/);
    });
  });

  describe("several agents", () => {
    it("fatal only once every agent is lost; ops wait for the healthy agent, then are rejected", async () => {
      const { runtime, events, fatal } = newRuntime();
      try {
        const bad = addFakeAgent(runtime, "bad");
        const good = addFakeAgent(runtime, "good");
        const op = runtime.issueWorker(0, "noop", 1, undefined).then(
          () => ({ settled: "resolved" }),
          (error: Error) => ({ settled: "rejected", error }),
        );
        good.agent.write(helloFrame({ hostname: "good" }));
        bad.agent.write(Buffer.from("this is not a frame at all"));
        expect(await within(bad.added, 2000, "addAgent(bad)")).to.have.property("error");
        expect(await within(good.added, 2000, "addAgent(good)")).to.have.property("hello");
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(events.map((e) => e.kind)).to.not.include("fatal");
        expect(events.filter((e) => e.kind === "agent.lost").map((e) => (e as { host: string }).host)).to.deep.equal(["bad"]);
        expect(runtime.fatalError).to.equal(null);

        good.agent.write(Buffer.from("and now the good one breaks too"));
        const error = await within(fatal, 2000, "the fatal event");
        expect(error.message, error.message).to.match(/^no host is left to run on: bad: set aside \(agent on bad: .*\); good: set aside \(agent on good: .*not a frame/);
        const settled = await within(op, 2000, "the op");
        expect(settled.settled).to.equal("rejected");
        expect((settled as { error: Error }).error).to.equal(error);
      } finally {
        runtime.close();
      }
    });
  });

  describe("random garbage, several hundred cases", () => {
    const printable = (bytes: Uint8Array) => JSON.stringify(Buffer.from(bytes).toString("latin1"));

    type Case = { label: string; writes: Buffer[]; expected: RegExp };

    /** Text or bytes that cannot start a frame. */
    const notAFrame = fc.oneof(fc.uint8Array({ minLength: HEADER_BYTES, maxLength: 200 }), fc.uint8Array({ minLength: 1, maxLength: HEADER_BYTES - 1 })).map((bytes) => {
      if (bytes[0] === FRAME_MAGIC) bytes[0] = 0x41;
      return bytes;
    });

    const chunked = (bytes: Uint8Array, sizes: number[]): Buffer[] => {
      const out: Buffer[] = [];
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const size = sizes.length ? sizes[i % sizes.length]! : bytes.length;
        out.push(Buffer.from(bytes.subarray(at, at + size)));
        at += size;
      }
      return out;
    };
    const sizes = fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 4 });

    /** Frames an agent may send after the hello, to be broken afterwards. */
    const agentFrame = fc.oneof(
      fc.constant(encodeFrame(FrameType.Heartbeat, 0, 0)),
      fc.string({ maxLength: 60 }).map((line) => encodeFrame(FrameType.Log, 0, 0, Buffer.from(line))),
    );

    /** A good hello, then good frames with a header bit flipped or a length field changed. */
    const mutatedFrames = fc
      .tuple(
        fc.array(agentFrame, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.oneof(
          fc.record({ flip: fc.integer({ min: 0, max: HEADER_BYTES * 8 - 1 }) }),
          fc.record({ length: fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(DEFAULT_MAX_PAYLOAD + 1, 0xffffffff)) }),
        ),
        sizes,
      )
      .map(([frames, which, change, s]) => {
        const broken = Buffer.from(frames[which % frames.length]!);
        if ("flip" in change) broken[change.flip >> 3] = broken[change.flip >> 3]! ^ (1 << (change.flip & 7));
        else broken.writeUInt32LE(change.length, 4);
        const bytes = Buffer.concat(frames.map((f, i) => (i === which % frames.length ? broken : f)));
        // A flip that turns a frame into Fatal makes its payload the reason: "fake: …".
        const fatalType = broken[0] === FRAME_MAGIC && broken[1] === FrameType.Fatal;
        return { label: `hello + mutated frames ${bytes.toString("hex")}`, writes: [helloFrame(), ...chunked(bytes, s)], expected: fatalType ? /^(agent on )?fake: / : WHAT_WENT_WRONG };
      });

    const cases: fc.Arbitrary<Case> = fc.oneof(
      // garbage where the hello belongs
      fc.tuple(notAFrame, sizes).map(([bytes, s]) => ({
        label: `garbage ${printable(bytes)}`,
        writes: chunked(bytes, s),
        expected: /^agent on fake: bad frame start byte .*not a frame$/,
      })),
      // a good hello, then garbage
      fc.tuple(notAFrame, sizes).map(([bytes, s]) => ({
        label: `hello + garbage ${printable(bytes)}`,
        writes: [helloFrame(), ...chunked(bytes, s)],
        expected: /^agent on fake: bad frame start byte .*not a frame$/,
      })),
      { weight: 3, arbitrary: mutatedFrames },
      // a good hello, then a frame cut short
      fc.tuple(agentFrame, fc.nat()).map(([frame, cut]) => {
        const at = cut % frame.length; // 0 … length-1 bytes of it
        return {
          label: `hello + ${at} of ${frame.length} bytes of a frame`,
          writes: at === 0 ? [helloFrame()] : [helloFrame(), frame.subarray(0, at)],
          expected: at === 0 ? /^fake: the agent's connection closed$/ : new RegExp(`^agent on fake: truncated frame \\(stream ended inside a frame, ${at} bytes in\\)$`),
        };
      }),
      // a good hello, then one frame of any type: most of them the master never receives
      fc.tuple(fc.oneof(fc.integer({ min: 1, max: LAST_TYPE }), fc.integer({ min: 0, max: 255 })), fc.integer({ min: 0, max: 1 }), fc.uint8Array({ maxLength: 24 })).map(([type, slave, payload]) => ({
        label: `hello + a frame of type ${type} for slave ${slave}: ${Buffer.from(payload).toString("hex")}`,
        writes: [helloFrame(), encodeFrame(type as FrameType, slave, 0, payload)],
        // A Fatal frame's payload is the agent's own words: "fake: …".
        expected: type === FrameType.Fatal ? /^(agent on )?fake: / : WHAT_WENT_WRONG,
      })),
      // a good hello, then a slave (slave 1 is the first the master starts) reports in words that do not decode
      fc.tuple(fc.constantFrom(FrameType.SlaveReady, FrameType.SlaveExit), fc.uint8Array({ maxLength: 24 })).map(([type, payload]) => ({
        label: `hello + ${type === FrameType.SlaveReady ? "SlaveReady" : "SlaveExit"} ${Buffer.from(payload).toString("hex")}`,
        writes: [helloFrame(), encodeFrame(type, 1, 0, payload)],
        expected: WHAT_WENT_WRONG,
      })),
      // a good hello, then the header of an oversized frame
      fc.tuple(fc.integer({ min: 1, max: LAST_TYPE }), fc.integer({ min: DEFAULT_MAX_PAYLOAD + 1, max: 0xffffffff })).map(([type, length]) => {
        const header = encodeFrame(type as FrameType, 0, 0);
        header.writeUInt32LE(length, 4);
        return { label: `hello + oversized ${type}/${length}`, writes: [helloFrame(), header], expected: new RegExp(`^agent on fake: oversized frame: ${length} bytes`) };
      }),
      // a hello with the wrong protocol version, maybe followed by garbage
      fc.tuple(fc.integer({ min: -5, max: 1000 }).filter((v) => v !== PROTOCOL_VERSION), fc.uint8Array({ maxLength: 40 })).map(([protocol, rest]) => ({
        label: `hello with protocol ${protocol}`,
        writes: [Buffer.concat([helloFrame({ protocol }), rest])],
        expected: new RegExp(`^fake: the agent speaks protocol ${protocol}, this master speaks ${PROTOCOL_VERSION}`),
      })),
      // a first frame of another type
      fc.tuple(fc.integer({ min: 2, max: LAST_TYPE }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 0xffff })).map(([type, payload, flags]) => ({
        label: `first frame of type ${type} flags ${flags}`,
        writes: [encodeFrame(type as FrameType, 0, 0, payload, flags)],
        expected: flags & FLAG_MORE ? /^fake: the agent's connection closed$/ : /^fake: the agent's first frame was not a hello$/,
      })),
    );

    it("600 cases: each one settles (addAgent, the op, fatal), names the host and what was wrong", async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(cases, async ({ label, writes, expected }) => {
          const outcome = await runCase(
            (agent) => {
              for (const chunk of writes) agent.write(chunk);
            },
            { label },
          );
          const reason = expectLost(outcome, expected);
          seen.add(WHAT_WENT_WRONG.exec(reason)?.[0] ?? "other");
        }),
        { numRuns: 600 },
      );
      // The cases reach every way an agent can be found broken.
      for (const what of EVERY_WAY.source.split("|")) expect([...seen], what).to.include(what);
    });
  });
});
