// The op ledger: a worker op's promise settles exactly once, whatever answers late; the counters
// say what happened; retries after a user exception are counted down; a timeout runs only while
// the op is on a slave, and fires through the clock.
import { expect } from "chai";
import { TimeoutError } from "../../../core/errors.ts";
import { OpLedger } from "../../../core/runtime/scheduler/op-ledger.ts";
import { OpState, type WorkerOp } from "../../../core/runtime/scheduler/types.ts";
import { FakeClock, makeOp, Outcome } from "./fakes.ts";

function setup() {
  const clock = new FakeClock();
  const settled: WorkerOp[] = [];
  const timeouts: Array<{ op: WorkerOp; error: TimeoutError }> = [];
  const ledger = new OpLedger(
    clock,
    (op) => settled.push(op),
    (op, error) => timeouts.push({ op, error }),
    () => "render",
  );
  return { clock, ledger, settled, timeouts };
}

const outcome = (op: WorkerOp) => op.settle as Outcome;

describe("scheduler: op ledger", () => {
  it("settles an op once: a second resolve or reject is ignored, and counted once", () => {
    const { ledger, settled } = setup();
    const op = makeOp(1);
    ledger.issued();
    expect(ledger.outstanding).to.equal(1);
    ledger.resolve(op, 42);
    ledger.resolve(op, 43);
    ledger.reject(op, new Error("late"));
    ledger.abandon(op, new Error("later"));
    expect(outcome(op).state).to.equal("resolved");
    expect(outcome(op).value).to.equal(42);
    expect(outcome(op).calls, "the program's promise was touched once").to.equal(1);
    expect(op.state).to.equal(OpState.Settled);
    expect(ledger.outstanding).to.equal(0);
    expect(settled).to.deep.equal([op]);
    expect(ledger.counters).to.deep.equal({ workerDone: 1, workerFailed: 0, workerRetried: 0 });
  });

  it("reject counts a failure; abandon counts one too and goes through the settler's abandon", () => {
    const { ledger, settled } = setup();
    const failed = makeOp(1);
    const dropped = makeOp(2);
    ledger.issued();
    ledger.issued();
    const error = new Error("user code threw");
    ledger.reject(failed, error);
    ledger.resolve(failed, "too late");
    ledger.abandon(dropped, new Error("the run is stopping"));
    expect(outcome(failed).state).to.equal("rejected");
    expect(outcome(failed).error).to.equal(error);
    expect(outcome(dropped).state).to.equal("abandoned");
    expect(outcome(dropped).error!.message).to.equal("the run is stopping");
    expect(ledger.outstanding).to.equal(0);
    expect(settled).to.deep.equal([failed, dropped]);
    expect(ledger.counters).to.deep.equal({ workerDone: 0, workerFailed: 2, workerRetried: 0 });
  });

  it("takeRetry grants the op's retries one by one, each a new attempt", () => {
    const { ledger } = setup();
    const op = makeOp(1, { retriesLeft: 2 });
    expect(ledger.takeRetry(op)).to.equal(true);
    expect(op.attempt).to.equal(1);
    expect(ledger.takeRetry(op)).to.equal(true);
    expect(op.attempt).to.equal(2);
    expect(ledger.takeRetry(op)).to.equal(false);
    expect(op.attempt).to.equal(2);
    expect(op.retriesLeft).to.equal(0);
    expect(ledger.counters.workerRetried).to.equal(2);
    expect(ledger.takeRetry(makeOp(2)), "no retries asked").to.equal(false);
  });

  it("an op without a timeout sets no timer", () => {
    const { clock, ledger } = setup();
    const op = makeOp(1);
    ledger.sent(op);
    expect(op.state).to.equal(OpState.Sent);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it("a timeout fires through the clock after its time on a slave, once, naming the op", () => {
    const { clock, ledger, timeouts } = setup();
    const op = makeOp(7, { timeoutMs: 300 });
    ledger.sent(op);
    expect(clock.pendingTimers(false), "an op timeout does not keep the process alive").to.equal(1);
    clock.advance(299);
    expect(timeouts).to.have.length(0);
    clock.advance(1);
    expect(timeouts).to.have.length(1);
    expect(timeouts[0]!.op).to.equal(op);
    expect(timeouts[0]!.error).to.be.instanceOf(TimeoutError);
    expect(timeouts[0]!.error.code).to.equal("timeout");
    expect(timeouts[0]!.error.message).to.equal("render (op 7) got no result within 300 ms");
    expect(op.timedOut).to.equal(true);
    expect(op.timer).to.equal(null);
    clock.advance(10_000);
    expect(timeouts).to.have.length(1);
  });

  it("unassigned stops the timer; sent again starts a new one from then", () => {
    const { clock, ledger, timeouts } = setup();
    const op = makeOp(1, { timeoutMs: 300 });
    ledger.sent(op);
    clock.advance(200);
    ledger.unassigned(op); // its slave was lost
    expect(op.state).to.equal(OpState.Waiting);
    expect(clock.pendingTimers()).to.equal(0);
    clock.advance(1000); // waiting in the queue does not count
    expect(timeouts).to.have.length(0);
    ledger.sent(op);
    clock.advance(299);
    expect(timeouts).to.have.length(0);
    clock.advance(1);
    expect(timeouts).to.have.length(1);
  });

  it("sent twice without being unassigned keeps the first timer (one timeout per run)", () => {
    const { clock, ledger, timeouts } = setup();
    const op = makeOp(1, { timeoutMs: 300 });
    ledger.sent(op);
    clock.advance(200);
    ledger.sent(op);
    expect(clock.pendingTimers()).to.equal(1);
    clock.advance(100);
    expect(timeouts).to.have.length(1);
  });

  it("counts the ops on slaves: sent and not taken back nor settled", () => {
    const { ledger } = setup();
    const [a, b, c] = [makeOp(1), makeOp(2), makeOp(3)];
    for (const op of [a, b, c]) ledger.issued();
    ledger.sent(a);
    ledger.sent(b);
    ledger.sent(b);
    expect(ledger.onSlaves).to.equal(2);
    ledger.unassigned(a); // its slave was lost
    ledger.unassigned(a);
    expect(ledger.onSlaves).to.equal(1);
    ledger.reject(b, new Error("cancelled")); // settled while its slave still holds it
    ledger.unassigned(b); // the slave's answer
    expect(ledger.onSlaves).to.equal(0);
    ledger.resolve(c, "never sent");
    expect(ledger.onSlaves).to.equal(0);
    expect(ledger.outstanding).to.equal(1);
  });

  it("settling stops the timer, and a settled op stays settled when unassigned", () => {
    const { clock, ledger, timeouts } = setup();
    const op = makeOp(1, { timeoutMs: 300 });
    ledger.issued();
    ledger.sent(op);
    ledger.resolve(op, "done");
    expect(clock.pendingTimers()).to.equal(0);
    clock.advance(1000);
    expect(timeouts).to.have.length(0);
    ledger.unassigned(op);
    expect(op.state).to.equal(OpState.Settled);
    expect(op.slave).to.equal(null);
  });
});
