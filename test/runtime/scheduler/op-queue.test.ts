// The op queue: issue order in, issue order out; ops taken back from a lost slave go to the front
// in their own order; a long run of shifts does not keep the shifted ops (memory) nor lose any.
import { expect } from "chai";
import { OpQueue } from "../../../core/runtime/scheduler/op-queue.ts";
import type { QueueEntry } from "../../../core/runtime/scheduler/types.ts";
import { makeContext, makeOp } from "./fakes.ts";

const ids = (entries: Iterable<QueueEntry>) => [...entries].map((e) => (e.kind === "worker" ? e.id : `c${e.seq}`));

describe("scheduler: op queue", () => {
  it("is first in, first out, worker and context ops alike", () => {
    const queue = new OpQueue();
    expect(queue.length).to.equal(0);
    expect(queue.peek()).to.equal(undefined);
    expect(queue.shift()).to.equal(undefined);
    queue.push(makeOp(1));
    queue.push(makeContext(1));
    queue.push(makeOp(2));
    expect(queue.length).to.equal(3);
    expect(ids(queue)).to.deep.equal([1, "c1", 2]);
    const out: Array<number | string> = [];
    for (let e = queue.shift(); e; e = queue.shift()) out.push(...ids([e]));
    expect(out).to.deep.equal([1, "c1", 2]);
    expect(queue.length).to.equal(0);
    expect(queue.shift()).to.equal(undefined);
  });

  it("peek shows the next entry without taking it", () => {
    const queue = new OpQueue();
    const a = makeOp(1);
    queue.push(a);
    queue.push(makeOp(2));
    expect(queue.peek()).to.equal(a);
    expect(queue.peek()).to.equal(a);
    expect(queue.length).to.equal(2);
  });

  it("pushFront puts entries before everything queued, in the order given (into freed room at the head)", () => {
    const queue = new OpQueue();
    for (let i = 1; i <= 6; i++) queue.push(makeOp(i));
    queue.shift();
    queue.shift();
    queue.shift(); // 4, 5, 6 left; three free places at the head
    queue.pushFront([makeOp(101), makeOp(102)]);
    expect(ids(queue)).to.deep.equal([101, 102, 4, 5, 6]);
    expect(queue.length).to.equal(5);
    queue.push(makeOp(7));
    expect(ids(queue.drain())).to.deep.equal([101, 102, 4, 5, 6, 7]);
  });

  it("pushFront with more entries than free room at the head keeps the same order", () => {
    const queue = new OpQueue();
    queue.push(makeOp(1));
    queue.push(makeOp(2));
    queue.shift(); // one free place, three entries to put back
    queue.pushFront([makeOp(101), makeOp(102), makeOp(103)]);
    expect(ids(queue)).to.deep.equal([101, 102, 103, 2]);
    queue.shift();
    expect(ids(queue)).to.deep.equal([102, 103, 2]);
    queue.pushFront([makeOp(100)]);
    expect(ids(queue)).to.deep.equal([100, 102, 103, 2]);
  });

  it("pushFront on an empty queue, and of nothing, behave", () => {
    const queue = new OpQueue();
    queue.pushFront([]);
    expect(queue.length).to.equal(0);
    queue.pushFront([makeOp(1), makeOp(2)]);
    expect(ids(queue)).to.deep.equal([1, 2]);
    queue.pushFront([]);
    expect(ids(queue)).to.deep.equal([1, 2]);
  });

  it("after many shifts (compaction) keeps every entry in order, mixed with pushFront", () => {
    const queue = new OpQueue();
    const expected: number[] = [];
    let next = 1;
    // A long backlog drained slowly while new ops arrive and lost ops come back to the front.
    for (let i = 0; i < 5000; i++) {
      queue.push(makeOp(next));
      expected.push(next++);
    }
    const taken: number[] = [];
    for (let round = 0; round < 3000; round++) {
      const [id] = ids([queue.shift()!]) as number[];
      expect(id).to.equal(expected.shift());
      taken.push(id!);
      if (round % 7 === 0) {
        queue.push(makeOp(next));
        expected.push(next++);
      }
      if (round % 500 === 499) {
        // The last two taken come back, ahead of everything.
        const back = taken.splice(-2);
        queue.pushFront(back.map((id) => makeOp(id)));
        expected.unshift(...back);
      }
    }
    expect(queue.length).to.equal(expected.length);
    expect(ids(queue)).to.deep.equal(expected);
    expect(ids(queue.drain())).to.deep.equal(expected);
  });

  it("holds no reference to shifted entries, and its storage stays bounded in a steady run", () => {
    const queue = new OpQueue();
    const first = makeOp(0);
    queue.push(first);
    queue.push(makeOp(1));
    queue.shift();
    const storage = () => (queue as unknown as { entries: unknown[] }).entries;
    expect(storage()).to.not.include(first);
    // 100,000 ops through a queue that never holds more than 10.
    let id = 2;
    for (let i = 0; i < 100_000; i++) {
      queue.push(makeOp(id++));
      if (queue.length > 10) queue.shift();
    }
    expect(queue.length).to.equal(10);
    expect(storage().length).to.be.below(2100);
    expect(ids(queue)).to.deep.equal(Array.from({ length: 10 }, (_, i) => id - 10 + i));
  });

  it("drain empties the queue and returns what was in it, in order; the queue works afterwards", () => {
    const queue = new OpQueue();
    for (let i = 1; i <= 4; i++) queue.push(makeOp(i));
    queue.shift();
    expect(ids(queue.drain())).to.deep.equal([2, 3, 4]);
    expect(queue.length).to.equal(0);
    expect(queue.peek()).to.equal(undefined);
    expect(queue.drain()).to.deep.equal([]);
    queue.push(makeOp(9));
    queue.pushFront([makeOp(8)]);
    expect(ids(queue)).to.deep.equal([8, 9]);
  });
});
