// The agent's output to the master: frames sent in one tick leave in one write; flush() sends now.
import { expect } from "chai";
import { MasterOutput } from "../../remote-agent/master-output.ts";

function setup() {
  const writes: string[] = [];
  const scheduled: Array<() => void> = [];
  const output = new MasterOutput(
    (bytes) => writes.push(bytes.toString()),
    (callback) => scheduled.push(callback),
  );
  return { output, writes, scheduled };
}

describe("agent: output to the master", () => {
  it("frames sent in one tick leave together in one write, at the scheduled flush", () => {
    const t = setup();
    t.output.send(Buffer.from("a"));
    t.output.send(Buffer.from("b"));
    t.output.send(Buffer.from("c"));
    expect(t.writes).to.deep.equal([]);
    expect(t.scheduled, "one flush scheduled, not one per frame").to.have.length(1);
    t.scheduled[0]!();
    expect(t.writes).to.deep.equal(["abc"]);
  });

  it("flush() writes at once; the scheduled flush then has nothing to write", () => {
    const t = setup();
    t.output.send(Buffer.from("result"));
    t.output.flush();
    expect(t.writes).to.deep.equal(["result"]);
    t.scheduled[0]!();
    expect(t.writes).to.deep.equal(["result"]);
    // The next send schedules again.
    t.output.send(Buffer.from("next"));
    expect(t.scheduled).to.have.length(2);
  });

  it("with the default scheduler, a frame leaves by the next tick", async () => {
    const writes: string[] = [];
    const output = new MasterOutput((bytes) => writes.push(bytes.toString()));
    output.send(Buffer.from("x"));
    output.send(Buffer.from("y"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).to.deep.equal(["xy"]);
  });
});
