// programStack: the frames a user needs from an op's error, with mnt's own and Node.js's plumbing
// dropped. Synthetic stacks in the shapes V8 writes them (mapped by source maps, or not).
import { expect } from "chai";
import { programErrorToWire, programStack, type OwnFile } from "../../remote-agent/error-stack.ts";

const ROOT = "/home/u/.cache/mnt/build/ab12/";
const own: OwnFile = (file) => file.startsWith(`${ROOT}remote-agent/`) || file.startsWith(`${ROOT}core/`) || file === `${ROOT}linux-x64/agent.cjs`;
const mnt = [
  `    at OpRunner.runOp (${ROOT}remote-agent/op-runner.ts:146:41)`,
  `    at OpRunner.runLoop (${ROOT}remote-agent/op-runner.ts:97:50)`,
  `    at handle (${ROOT}remote-agent/slave.ts:75:23)`,
  `    at FrameSplitter.onFrame (${ROOT}core/protocol/channel.ts:68:25)`,
  `    at FrameSplitter.push (${ROOT}core/protocol/frame.ts:168:12)`,
  "    at Socket.emit (node:events:524:28)",
  "    at addChunk (node:internal/streams/readable:561:12)",
];

describe("agent: the program's stack of an op's error", () => {
  it("drops mnt's frames and node internals after the program's frames", () => {
    const stack = ["RangeError: too big", "    at parse (/work/job.ts:8:20)", "    at render (/work/job.ts:25:14)", ...mnt].join("\n");
    expect(programStack(stack, own)).to.equal(["RangeError: too big", "    at parse (/work/job.ts:8:20)", "    at render (/work/job.ts:25:14)"].join("\n"));
  });

  it("keeps node internals and built-ins above the first program frame (where a built-in failed)", () => {
    const stack = [
      "Error: ENOENT: no such file or directory, open 'x'",
      "    at Object.openSync (node:fs:573:18)",
      "    at JSON.parse (<anonymous>)",
      "    at load (file:///work/job.ts:3:5)",
      ...mnt,
    ].join("\n");
    expect(programStack(stack, own).split("\n")).to.deep.equal([
      "Error: ENOENT: no such file or directory, open 'x'",
      "    at Object.openSync (node:fs:573:18)",
      "    at JSON.parse (<anonymous>)",
      "    at load (file:///work/job.ts:3:5)",
    ]);
  });

  it("keeps built-ins between program frames, drops node:events between them and built-ins after the last", () => {
    const stack = [
      "Error: e",
      "    at onItem (/work/job.ts:4:1)",
      "    at Array.map (<anonymous>)",
      "    at EventEmitter.emit (node:events:517:28)",
      "    at async Promise.all (index 0)",
      "    at async run (/work/job.ts:9:3)",
      "    at new Promise (<anonymous>)",
      ...mnt,
    ].join("\n");
    expect(programStack(stack, own).split("\n")).to.deep.equal([
      "Error: e",
      "    at onItem (/work/job.ts:4:1)",
      "    at Array.map (<anonymous>)",
      "    at async Promise.all (index 0)",
      "    at async run (/work/job.ts:9:3)",
    ]);
  });

  it("frames of the unmapped agent bundle and anonymous frames (`at file:line:col`) are recognised", () => {
    const stack = ["Error: e", "    at /work/job.ts:4:1", `    at ${ROOT}linux-x64/agent.cjs:812:20`, `    at async ${ROOT}remote-agent/slave.ts:3:3`].join("\n");
    expect(programStack(stack, own)).to.equal("Error: e\n    at /work/job.ts:4:1");
  });

  it("an error of mnt's own (no program frame) keeps its message lines only; a message of several lines is kept whole", () => {
    const stack = ["EncodeError: result of f cannot be encoded:", "  .a is a function", `    at encode (${ROOT}core/protocol/codec.ts:120:11)`, ...mnt, "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"].join("\n");
    expect(programStack(stack, own)).to.equal("EncodeError: result of f cannot be encoded:\n  .a is a function");
  });

  it("a stack without frames is left as it is", () => {
    expect(programStack("Error: incr threw a non-Error value: 42", own)).to.equal("Error: incr threw a non-Error value: 42");
  });

  it("programErrorToWire trims the error's stack and its causes', and leaves the thrown error alone", () => {
    const cause = new TypeError("inner");
    cause.stack = ["TypeError: inner", "    at deep (/work/job.ts:2:2)", ...mnt].join("\n");
    const error = new Error("outer", { cause });
    const original = ["Error: outer", "    at top (/work/job.ts:1:1)", ...mnt].join("\n");
    error.stack = original;
    const wire = programErrorToWire(error, own);
    expect(wire.stack).to.equal("Error: outer\n    at top (/work/job.ts:1:1)");
    expect(wire.cause).to.be.instanceOf(TypeError);
    expect((wire.cause as Error).stack).to.equal("TypeError: inner\n    at deep (/work/job.ts:2:2)");
    expect(error.stack, "the program's own error object").to.equal(original);
    expect(cause.stack!.split("\n")).to.have.length(2 + mnt.length);
  });

  it("a cycle of causes ends", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(() => programErrorToWire(a, own)).to.not.throw();
  });
});
