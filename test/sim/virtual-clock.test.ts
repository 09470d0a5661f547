// The simulator's clock: events in time order, ties in the order they were scheduled, `soon`
// actions before the next timed event, cleared timers never run, and the scheduler's own actions
// metered as such.
import { expect } from "chai";
import { Meter } from "./meter.ts";
import { VirtualClock } from "./virtual-clock.ts";

describe("simulator: virtual clock", () => {
  it("runs events by time, then by the order they were scheduled", () => {
    const clock = new VirtualClock(new Meter(false));
    const seen: string[] = [];
    clock.after(5, () => seen.push(`b@${clock.now()}`));
    clock.after(1, () => seen.push(`a@${clock.now()}`));
    clock.after(5, () => seen.push(`c@${clock.now()}`));
    clock.setTimer(5, () => seen.push(`d@${clock.now()}`));
    clock.at(3, () => clock.after(2, () => seen.push(`e@${clock.now()}`)));
    expect(clock.run(() => false, Infinity)).to.equal("empty");
    expect(seen).to.deep.equal(["a@1", "b@5", "c@5", "d@5", "e@5"]);
  });

  it("runs soon actions, in order, before the next timed event", () => {
    const clock = new VirtualClock(new Meter(false));
    const seen: string[] = [];
    clock.after(0, () => {
      seen.push("t1");
      clock.soon(() => {
        seen.push("s1");
        clock.defer(() => seen.push("s3"));
      });
      clock.defer(() => seen.push("s2"));
    });
    clock.after(0, () => seen.push("t2"));
    clock.run(() => false, Infinity);
    expect(seen).to.deep.equal(["t1", "s1", "s2", "s3", "t2"]);
  });

  it("never runs a cleared timer; stops at done() or before passing the limit", () => {
    const clock = new VirtualClock(new Meter(false));
    const seen: number[] = [];
    const handle = clock.setTimer(2, () => seen.push(2));
    clock.clearTimer(handle);
    clock.after(4, () => seen.push(4));
    clock.after(9, () => seen.push(9));
    expect(clock.run(() => false, 6)).to.equal("limit");
    expect(seen).to.deep.equal([4]);
    expect(clock.now()).to.equal(4);
    expect(clock.run(() => seen.length === 2, Infinity)).to.equal("done");
    expect(seen).to.deep.equal([4, 9]);
  });

  it("meters the scheduler's timers and soon actions, not the world's events", () => {
    const meter = new Meter(false);
    const clock = new VirtualClock(meter);
    clock.setTimer(1, () => clock.soon(() => {}));
    clock.after(1, () => {});
    clock.run(() => false, Infinity);
    expect(meter.schedulerCalls).to.equal(2);
    expect(meter.clockCalls).to.equal(2);
  });
});
