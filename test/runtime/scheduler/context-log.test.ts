// The context log: versions in issue order; `await m.context.x()` settles once every slave it was
// sent to has acknowledged it and at least one applied it, with the first slave error if any; a
// lost slave owes nothing; the end of a run abandons what is left.
import { expect } from "chai";
import { ContextLog } from "../../../core/runtime/scheduler/context-log.ts";
import { makeContext, Outcome } from "./fakes.ts";

function append(log: ContextLog) {
  const outcome = new Outcome();
  const entry = log.append((seq) => makeContext(seq, outcome));
  return { entry, outcome };
}

describe("scheduler: context log", () => {
  it("numbers entries 1, 2, 3… and its version is the count issued", () => {
    const log = new ContextLog();
    expect(log.version).to.equal(0);
    expect(log.allSettled).to.equal(true);
    const a = append(log).entry;
    const b = append(log).entry;
    expect([a.seq, b.seq]).to.deep.equal([1, 2]);
    expect(log.version).to.equal(2);
    expect(log.at(1)).to.equal(a);
    expect(log.at(2)).to.equal(b);
    expect(log.at(3)).to.equal(undefined);
    expect(log.allSettled).to.equal(false);
  });

  it("settles once every slave it was sent to has acknowledged, not before", () => {
    const log = new ContextLog();
    const { entry, outcome } = append(log);
    log.sentTo(entry, 1);
    log.sentTo(entry, 2);
    expect(log.acknowledge(1, 1, null)).to.equal(null);
    expect(outcome.state).to.equal("pending");
    // A slave that joins later and replays it is waited for too.
    log.sentTo(entry, 3);
    expect(log.acknowledge(1, 2, null)).to.equal(null);
    expect(outcome.state).to.equal("pending");
    expect(log.acknowledge(1, 3, null)).to.equal(entry);
    expect(outcome.state).to.equal("resolved");
    expect(log.allSettled).to.equal(true);
  });

  it("is not settled while no slave applied it, even with nobody pending", () => {
    const log = new ContextLog();
    const { entry, outcome } = append(log);
    expect(log.forget(7)).to.deep.equal([]);
    expect(outcome.state).to.equal("pending");
    log.sentTo(entry, 1);
    // Its only slave died before applying it: it waits for a slave that will.
    expect(log.forget(1)).to.deep.equal([]);
    expect(outcome.state).to.equal("pending");
    expect(log.allSettled).to.equal(false);
    log.sentTo(entry, 2);
    expect(log.acknowledge(1, 2, null)).to.equal(entry);
    expect(outcome.state).to.equal("resolved");
  });

  it("an error from any slave rejects it, with the first error, once all answered", () => {
    const log = new ContextLog();
    const { entry, outcome } = append(log);
    for (const slave of [1, 2, 3]) log.sentTo(entry, slave);
    const first = new Error("slave 2 threw");
    expect(log.acknowledge(1, 1, null)).to.equal(null);
    expect(log.acknowledge(1, 2, first)).to.equal(null);
    expect(outcome.state, "slave 3 has not answered yet").to.equal("pending");
    expect(log.acknowledge(1, 3, new Error("slave 3 threw"))).to.equal(entry);
    expect(outcome.state).to.equal("rejected");
    expect(outcome.error).to.equal(first);
    expect(outcome.calls).to.equal(1);
  });

  it("settles once: later acknowledgements (replays on new slaves) change nothing", () => {
    const log = new ContextLog();
    const { entry, outcome } = append(log);
    log.sentTo(entry, 1);
    expect(log.acknowledge(1, 1, null)).to.equal(entry);
    log.sentTo(entry, 2);
    expect(entry.pending.size, "nothing is awaited of a settled entry").to.equal(0);
    expect(log.acknowledge(1, 2, new Error("replay threw"))).to.equal(null);
    expect(outcome.state).to.equal("resolved");
    expect(outcome.calls).to.equal(1);
    expect(log.acknowledge(9, 1, null), "an unknown version").to.equal(null);
  });

  it("forget(slave) settles the entries that waited only on that slave, and only those", () => {
    const log = new ContextLog();
    const one = append(log);
    const two = append(log);
    const three = append(log);
    for (const { entry } of [one, two, three]) {
      log.sentTo(entry, 1);
      log.sentTo(entry, 2);
    }
    log.acknowledge(1, 1, null);
    log.acknowledge(2, 1, new Error("context 2 threw on slave 1"));
    // Entry 3: slave 1 has not answered either.
    expect(log.forget(2)).to.deep.equal([one.entry, two.entry]);
    expect(one.outcome.state).to.equal("resolved");
    expect(two.outcome.state).to.equal("rejected");
    expect(two.outcome.error!.message).to.equal("context 2 threw on slave 1");
    expect(three.outcome.state).to.equal("pending");
    expect(log.forget(2), "nothing more").to.deep.equal([]);
    expect(log.acknowledge(3, 1, null)).to.equal(three.entry);
    expect(log.allSettled).to.equal(true);
  });

  it("rejectAll abandons every unsettled entry (the run is ending), leaves settled ones alone", () => {
    const log = new ContextLog();
    const done = append(log);
    log.sentTo(done.entry, 1);
    log.acknowledge(1, 1, null);
    const waiting = append(log);
    log.sentTo(waiting.entry, 1);
    const unsent = append(log);
    const reason = new Error("the run is stopping");
    log.rejectAll(reason);
    expect(done.outcome.state).to.equal("resolved");
    expect(waiting.outcome.state).to.equal("abandoned");
    expect(unsent.outcome.state).to.equal("abandoned");
    expect(unsent.outcome.error).to.equal(reason);
    expect(log.allSettled).to.equal(true);
    // A late acknowledgement does not settle it a second time.
    expect(log.acknowledge(2, 1, null)).to.equal(null);
    expect(waiting.outcome.calls).to.equal(1);
  });
});
