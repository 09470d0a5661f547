// End-to-end: bad values through a real `mnt exec`. Results and inputs that cannot be encoded, ops
// (and main) that throw something that is not an Error, an untyped JavaScript program calling ops
// that do not exist, main returning something that is not an exit code, user code writing onto a
// slave's frame channel, and inputs larger than one frame. What a user checks: the exit code, the
// one `mnt:` line on stderr, and the results main printed. Nothing may hang: runMnt gives up (and
// fails the test) if mnt has not exited by its limit.
//
// The comments marked "Was:" say what mnt did before the behaviour a test checks was fixed.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt, type MntRun } from "../helpers/mnt.ts";
import { describeRun, escapeRegExp, fixture, lineOf, nonEmptyLines } from "./support.ts";

/** `mnt exec <fixture> --slots <slots> -q -- <args>`. */
function exec(name: string, args: string[], slots = 1): Promise<MntRun> {
  return runMnt(["exec", fixture(name), "--slots", String(slots), "-q", "--", ...args]);
}

/** No stack dump of mnt's own, and not Node.js's report of a crash. */
function expectNoCrash(run: MntRun): void {
  expect(run.stderr, describeRun(run)).not.to.match(/internal error|ERR_[A-Z_]+|^Node\.js v\d/m);
  expect(run.stderr, describeRun(run)).not.to.match(/^node:internal/m);
}

/** A path inside a net.Socket: where the codec first finds something with no wire form. */
const INSIDE_SOCKET = String.raw`\.[\w.[\]]+ (?:is a function \(\w*\)|refers back to itself \(a cycle[^)]*\))`;

describe("mnt exec: values that cannot cross the wire, and other bad values", function () {
  this.timeout(90_000);

  describe("an op's RESULT that cannot be encoded", () => {
    // What follows "result of <op> cannot be encoded: ", as a regular expression.
    const cases: Array<{ op: string; what: string; path: string }> = [
      { op: "withFunction", what: "an object holding a function", path: escapeRegExp(".onDone is a function (onDone)") },
      { op: "withSocket", what: "a class instance holding a real net.Socket", path: String.raw`\.socket` + INSIDE_SOCKET },
      { op: "withCycle", what: "a class instance with a cycle", path: escapeRegExp(".children[0].parent refers back to itself (a cycle through a TreeNode)") },
      { op: "withSymbol", what: "an object holding a Symbol", path: escapeRegExp(".tag is a symbol") },
    ];

    for (const { op, what, path: at } of cases) {
      it(`${what} (${op}): that op rejects naming the op and the path; a later good op works`, async () => {
        const run = await exec("bad-result.ts", ["catch", op]);
        expect(run.code, describeRun(run)).to.equal(0);
        const lines = nonEmptyLines(run.stdout);
        expect(lines, describeRun(run)).to.have.length(2);
        expect(lines[0]).to.match(new RegExp(`^bad-result: ${op} rejected: result of ${op} cannot be encoded: ${at}$`));
        expect(lines[1]).to.equal("bad-result: double(21) = 42");
        expect(run.stderr, describeRun(run)).to.equal("");
      });

      it(`${what} (${op}), not caught by main: exit 70, the message on stderr`, async () => {
        const run = await exec("bad-result.ts", ["uncaught", op]);
        expect(run.code, describeRun(run)).to.equal(70);
        expect(run.stdout).to.equal("");
        expect(run.stderr, describeRun(run)).to.match(new RegExp(`^mnt: the program threw: EncodeError: result of ${op} cannot be encoded: ${at}$`, "m"));
        expectNoCrash(run);
      });
    }

    // Was (core/protocol/codec.ts): msgpackr wrote a WeakMap (also WeakSet, WeakRef, a Promise) as an
    // empty object; the op resolved with { cache: {} }. (An object whose state is in #private fields
    // still travels as what its public fields hold: JavaScript cannot see those from outside.)
    it("an object holding a WeakMap: rejects naming .cache (not encoded silently as {})", async () => {
      const run = await exec("bad-result.ts", ["catch", "withWeakMap"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const lines = nonEmptyLines(run.stdout);
      expect(lines[0], describeRun(run)).to.match(/^bad-result: withWeakMap rejected: result of withWeakMap cannot be encoded: \.cache\b.*WeakMap/);
      expect(lines[1]).to.equal("bad-result: double(21) = 42");
    });
  });

  describe("an INPUT that cannot be encoded", () => {
    it("a class instance holding a real net.Socket: rejects at the master naming the path; the run goes on", async () => {
      const run = await exec("bad-input.ts", ["catch", "socket"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const lines = nonEmptyLines(run.stdout);
      expect(lines, describeRun(run)).to.have.length(2);
      expect(lines[0]).to.match(new RegExp(`^bad-input: rejected: input of take cannot be encoded: \\.reply${INSIDE_SOCKET}$`));
      expect(lines[1]).to.equal("bad-input: good input gave 7");
    });

    it("a class instance with a cycle: names the path and the class", async () => {
      const run = await exec("bad-input.ts", ["catch", "cycle"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(nonEmptyLines(run.stdout)).to.deep.equal([
        "bad-input: rejected: input of take cannot be encoded: .first.next.next refers back to itself (a cycle through a Step)",
        "bad-input: good input gave 7",
      ]);
    });

    it("the socket input, not caught by main: exit 70, the message on stderr, the stack at main's call", async () => {
      const run = await exec("bad-input.ts", ["uncaught", "socket"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stdout).to.equal("");
      expect(run.stderr, describeRun(run)).to.match(new RegExp(`^mnt: the program threw: MntError: input of take cannot be encoded: \\.reply${INSIDE_SOCKET}$`, "m"));
      expect(run.stderr).to.match(new RegExp(`bad-input\\.ts:${lineOf("bad-input.ts", "UNCAUGHT_TAKE")}:\\d+`));
      expectNoCrash(run);
    });

    // Was (core/protocol/codec.ts): the same silent {} as for results; the op ran on an input that had
    // lost its WeakMap and resolved with 1.
    it("an object holding a WeakMap: rejects naming .seen (not encoded silently as {})", async () => {
      const run = await exec("bad-input.ts", ["catch", "weakmap"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const lines = nonEmptyLines(run.stdout);
      expect(lines[0], describeRun(run)).to.match(/^bad-input: rejected: input of take cannot be encoded: \.seen\b.*WeakMap/);
      expect(lines[1]).to.equal("bad-input: good input gave 7");
    });
  });

  describe("code that throws something that is not an Error", () => {
    const shown: Array<{ what: string; label: string; text: string }> = [
      { what: "string", label: "a string", text: "boom: the disk is full" },
      { what: "undefined", label: "undefined", text: "undefined" },
      { what: "null", label: "null", text: "null" },
      { what: "number", label: "a number", text: "404" },
    ];
    for (const { what, label, text } of shown) {
      it(`an op throws ${label}: the promise rejects with an Error showing ${JSON.stringify(text)}; the run goes on`, async () => {
        const run = await exec("throws-non-error.ts", ["catch", what]);
        expect(run.code, describeRun(run)).to.equal(0);
        const lines = nonEmptyLines(run.stdout);
        expect(lines, describeRun(run)).to.have.length(3);
        expect(lines[0]).to.equal("throws-non-error: instanceof Error: true");
        expect(lines[1]).to.match(new RegExp(`^throws-non-error: message: .*\\b${escapeRegExp(text)}$`));
        expect(lines[2]).to.equal("throws-non-error: double(21) = 42");
      });
    }

    it("an async op throws a string after an await: the same", async () => {
      const run = await exec("throws-non-error.ts", ["catch", "string", "async"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const lines = nonEmptyLines(run.stdout);
      expect(lines[0], describeRun(run)).to.equal("throws-non-error: instanceof Error: true");
      expect(lines[1]).to.match(/^throws-non-error: message: .*boom: the disk is full$/);
      expect(lines[2]).to.equal("throws-non-error: double(21) = 42");
    });

    it("an op throws a string and main does not catch it: exit 70, the value on stderr", async () => {
      const run = await exec("throws-non-error.ts", ["uncaught", "string"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stdout).to.equal("");
      expect(run.stderr, describeRun(run)).to.match(/^mnt: the program threw: Error: .*boom: the disk is full$/m);
      expectNoCrash(run);
    });

    it("main itself throws a string: exit 70, the value on stderr", async () => {
      const run = await exec("throws-non-error.ts", ["main", "string"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stderr, describeRun(run)).to.match(/^mnt: the program threw: .*boom: the disk is full$/m);
      expectNoCrash(run);
    });

    // Was (remote-agent/slave.ts sendError → String(value)): the message was
    // "non-Error thrown: [object Object]"; neither E_QUOTA nor 42 was shown.
    it("an op throws a plain object: the Error's message names the op and shows its contents (not [object Object])", async () => {
      const run = await exec("throws-non-error.ts", ["catch", "object"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const lines = nonEmptyLines(run.stdout);
      expect(lines[0], describeRun(run)).to.equal("throws-non-error: instanceof Error: true");
      expect(lines[1]).to.match(/^throws-non-error: message: raise threw a non-Error value: .*E_QUOTA.*42/);
      expect(lines[2]).to.equal("throws-non-error: double(21) = 42");
    });

    // Was (core/runtime/run-program.ts: `new Error(String(thrown))`): stderr said
    // "mnt: the program threw: Error: [object Object]", with a stack inside runProgram.
    it("main throws a plain object: exit 70, stderr shows its contents (not [object Object]), no stack of mnt's", async () => {
      const run = await exec("throws-non-error.ts", ["main", "object"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stderr, describeRun(run)).to.match(/^mnt: the program threw: .*main threw a non-Error value: .*E_QUOTA.*42/m);
      expect(run.stderr, describeRun(run)).not.to.match(/^\s+at /m);
      expectNoCrash(run);
    });
  });

  describe("an untyped JavaScript program (.mjs) calls ops that do not exist", () => {
    it("m.worker.nope, m.context.nope and m.map('nope'): each names the op and the defined ones; a good op still works", async () => {
      const run = await exec("untyped-unknown-op.mjs", ["catch"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(nonEmptyLines(run.stdout)).to.deep.equal([
        'untyped: m.worker.nope(1): m.worker.nope: the program defines no worker op "nope" (it has: alpha, beta)',
        'untyped: m.context.nope(): m.context.nope: the program defines no context op "nope" (it defines no context ops)',
        'untyped: m.map("nope", [1]): m.worker.nope: the program defines no worker op "nope" (it has: alpha, beta)',
        "untyped: beta(41) = 42",
      ]);
    });

    it("m.worker.nope not caught: exit 70, one message naming the op and the defined ones, the stack at the .mjs line", async () => {
      const run = await exec("untyped-unknown-op.mjs", ["uncaught"]);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(run.stdout).to.equal("");
      expect(run.stderr, describeRun(run)).to.match(/^mnt: the program threw: MntError: m\.worker\.nope: the program defines no worker op "nope" \(it has: alpha, beta\)$/m);
      expect(run.stderr).to.match(new RegExp(`untyped-unknown-op\\.mjs:${lineOf("untyped-unknown-op.mjs", "UNCAUGHT_NOPE")}:\\d+`));
      expectNoCrash(run);
    });
  });

  describe("main returns something that is not an exit code", () => {
    // Anything that is not a number counts as "no code": mnt exits 0, and says so in one [mnt] note
    // (left out with -q, like all narration).
    for (const [what, label, kind] of [
      ["string", 'the string "3"', "a string"],
      ["object", "an object { code: 3 }", "an object"],
      ["null", "null", "null"],
      ["true", "true", "a boolean"],
    ] as const) {
      it(`${label}: mnt exits 0, with a note that main returned ${kind}, not an exit code`, async () => {
        const run = await runMnt(["exec", fixture("main-returns.ts"), "--slots", "1", "--", what]);
        expect(run.code, describeRun(run)).to.equal(0);
        expect(run.stdout).to.equal("main-returns: double(21) = 42\n");
        expect(run.stderr, describeRun(run)).to.match(new RegExp(`^\\[mnt\\] main returned ${escapeRegExp(kind)}, not an exit code, so exiting 0$`, "m"));
        expect(run.stderr.match(/not an exit code/g), describeRun(run)).to.have.length(1);
        expect(run.stderr, describeRun(run)).not.to.match(/^mnt: /m);
        expect(run.stderr, describeRun(run)).not.to.match(/^\s+at /m);
        expectNoCrash(run);
      });
    }

    it("the string \"3\" with -q: exit 0 and no note", async () => {
      const run = await exec("main-returns.ts", ["string"]);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("main-returns: double(21) = 42\n");
      expect(run.stderr, describeRun(run)).to.equal("");
    });

    // Was (core/runtime/run-program.ts kept any number; cli/main.ts passed it to process.exit):
    // Node.js threw ERR_OUT_OF_RANGE inside mnt's exit handler: a stack dump of node:internal and
    // exit 1.
    for (const [what, shown] of [
      ["fraction", "1.5"],
      ["nan", "NaN"],
      ["infinity", "Infinity"],
    ] as const) {
      it(`${shown}: one mnt: line naming the value, a non-zero exit (no Node.js ERR_OUT_OF_RANGE stack dump)`, async () => {
        const run = await exec("main-returns.ts", [what]);
        expect(run.code, describeRun(run)).to.be.a("number").and.not.equal(0);
        expect(run.stdout).to.equal("main-returns: double(21) = 42\n");
        const lines = nonEmptyLines(run.stderr);
        expect(lines, describeRun(run)).to.have.length(1);
        expect(lines[0]).to.match(new RegExp(`^mnt: .*\\b${shown}\\b`));
        expectNoCrash(run);
      });
    }

    // Was (same place): the code was taken modulo 256, so a main returning 256 (say, a count of
    // failures) made mnt report success.
    it("256: mnt does not exit 0 (256 does not wrap to 0, success)", async () => {
      const run = await exec("main-returns.ts", ["big256"]);
      expect(run.code, describeRun(run)).to.be.a("number").and.not.equal(0);
      expect(run.code, describeRun(run)).to.equal(70);
      expect(nonEmptyLines(run.stderr)).to.deep.equal(["mnt: main returned 256, not an exit code (return a whole number from 0 to 255)"]);
      expectNoCrash(run);
    });
  });

  describe("user code writes onto the slave's frame channel (fd 3), on the op's first run", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "mnt-scribble-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("garbage text: the agent names the slave and 'not a frame', the slave is replaced, the result is right", async () => {
      const run = await exec("slave-garbage.ts", ["garbage", path.join(dir, "marker")], 2);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("slave-garbage: garbage done\n");
      expect(run.stderr, describeRun(run)).to.match(/^\[local\] agent: slave \d: bad frame start byte 0x68 \('h'\): the peer wrote something that is not a frame$/m);
      expectNoCrash(run);
    });

    // Was (remote-agent/agent.ts, the FrameSplitter reading a slave): the agent waited for the 1,000
    // announced bytes and took the slave's real Result frame as part of them; the op never settled
    // and mnt hung (runMnt gives up after 60 s). The header claims to come from slave 0.
    it("a frame header announcing 1,000 bytes, then 3: the op still ends, re-run on a fresh slave (no hang)", async () => {
      const run = await exec("slave-garbage.ts", ["truncated", path.join(dir, "marker")], 2);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("slave-garbage: truncated done\n");
      expect(run.stderr, describeRun(run)).to.match(/^\[local\] agent: slave \d: a Result frame with slave id 0, not its own id \d+; killing it$/m);
      expectNoCrash(run);
    });
  });

  describe("values larger than one 1 MiB frame travel in chunks", () => {
    it("an 8 MiB worker op input and a 3 MiB context op input arrive intact", async () => {
      const run = await exec("big-input.ts", [], 2);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(nonEmptyLines(run.stdout)).to.deep.equal([
        "big-input: op 0 got 8388608 bytes and the table intact",
        "big-input: op 1 got 8388608 bytes and the table intact",
      ]);
    });
  });
});
