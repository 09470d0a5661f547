// What the runtime says and waits when processes fail: the backoff sequence, the one-line
// description of a slave's end, and the short picture of an op's input in error messages.
import { expect } from "chai";
import { encode } from "../../core/protocol/codec.ts";
import { backoffMs, describeSlaveExit, PoisonOpError, summarizeInput } from "../../core/runtime/recovery.ts";
import { MntError } from "../../core/errors.ts";

describe("recovery", () => {
  it("backoffMs: nothing after one failure, then doubling from the first delay, capped", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, 100, 1000))).to.deep.equal([0, 0, 100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffMs(50, 500, 8000), "no overflow far out").to.equal(8000);
  });

  describe("describeSlaveExit", () => {
    it("names the signal, or the exit code, or the agent's reason first", () => {
      expect(describeSlaveExit({ code: null, signal: "SIGSEGV", stderrTail: [], reason: null })).to.equal("killed by SIGSEGV");
      expect(describeSlaveExit({ code: 3, signal: null, stderrTail: [], reason: null })).to.equal("exited with code 3");
      expect(describeSlaveExit({ code: null, signal: "SIGKILL", stderrTail: [], reason: "no heartbeat for 5001 ms" })).to.equal("no heartbeat for 5001 ms");
    });

    it("adds the last non-blank stderr lines (3 by default)", () => {
      const stderrTail = ["one", "two", "", "three", "   ", "four"];
      expect(describeSlaveExit({ code: 1, signal: null, stderrTail, reason: null })).to.equal("exited with code 1; last stderr: two | three | four");
      expect(describeSlaveExit({ code: 1, signal: null, stderrTail, reason: null }, 1)).to.equal("exited with code 1; last stderr: four");
      expect(describeSlaveExit({ code: 1, signal: null, stderrTail: ["", " "], reason: null })).to.equal("exited with code 1");
    });
  });

  describe("summarizeInput", () => {
    it("shows a decoded input on one line, shortened", () => {
      expect(summarizeInput(Buffer.alloc(0))).to.equal("undefined");
      expect(summarizeInput(encode({ i: 5, bad: 5 }))).to.equal("{ i: 5, bad: 5 }");
      const long = summarizeInput(encode({ text: "x".repeat(500) }), 40);
      expect(long).to.have.length(40);
      expect(long.endsWith("…")).to.equal(true);
    });

    it("says how many bytes when the input does not decode", () => {
      expect(summarizeInput(Buffer.from([0xc1, 0xc1, 0xc1]))).to.equal("<3 bytes>");
    });
  });

  it("PoisonOpError is an MntError with code poison, the op, its input and each death, and the next step", () => {
    const error = new PoisonOpError("crashOn", 6, "{ i: 5 }", [
      { where: "local:1", how: "killed by SIGSEGV" },
      { where: "local:0", how: "exited with code 134" },
    ]);
    expect(error).to.be.instanceOf(MntError);
    expect(error.name).to.equal("PoisonOpError");
    expect(error.code).to.equal("poison");
    expect(error.message).to.equal(
      "crashOn (op 6, input { i: 5 }) killed 2 slaves and was not run again: local:1 killed by SIGSEGV; local:0 exited with code 134 (fix the op for this input, or catch this error in main)",
    );
  });
});
