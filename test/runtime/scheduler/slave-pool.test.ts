// The slave pool: which slave takes the next op. Ops rotate over the slaves with room, never past a
// slave's pipeline depth, never to a slave isolating a suspect op or giving up a cancelled one;
// tagged ops only go to hosts with every tag; the depth follows the ops' service time; and taking
// a slave costs the same with ten thousand full slaves in the pool as with one.
import { expect } from "chai";
import { SlavePool } from "../../../core/runtime/scheduler/slave-pool.ts";
import type { SlaveState } from "../../../core/runtime/scheduler/types.ts";
import { makeHost, makeOp, makeSlave, tagSet } from "./fakes.ts";

const options = { maxDepth: 256, pipelineBudgetUs: 1000 };
let nextOp = 1;

/** What the scheduler does with a slave it took: the op goes into its pipeline. */
function give(slave: SlaveState | null): SlaveState {
  expect(slave, "a slave with room").to.not.equal(null);
  const op = makeOp(nextOp++);
  slave!.inflight.set(op.id, op);
  return slave!;
}

/** An op of the slave ended: it may have room again. */
function finish(pool: SlavePool, slave: SlaveState): void {
  const first = slave.inflight.keys().next().value!;
  slave.inflight.delete(first);
  pool.offer(slave);
}

describe("scheduler: slave pool", () => {
  it("rotates over the slaves with room: each op goes to the next slave", () => {
    const pool = new SlavePool(options);
    const host = makeHost("a", [], 3);
    const slaves = [1, 2, 3].map((id) => makeSlave(id, host, { depth: 4 }));
    for (const slave of slaves) pool.join(slave);
    const order = Array.from({ length: 9 }, () => give(pool.take(null)).id);
    expect(order).to.deep.equal([1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it("never puts more ops on a slave than its depth; a finished op makes room", () => {
    const pool = new SlavePool(options);
    const host = makeHost("a");
    const a = makeSlave(1, host, { depth: 2 });
    const b = makeSlave(2, host, { depth: 3 });
    pool.join(a);
    pool.join(b);
    const taken = [] as number[];
    for (let slave = pool.take(null); slave; slave = pool.take(null)) taken.push(give(slave).id);
    expect(taken.sort()).to.deep.equal([1, 1, 2, 2, 2]);
    expect(a.inflight.size).to.equal(2);
    expect(b.inflight.size).to.equal(3);
    finish(pool, a);
    expect(give(pool.take(null))).to.equal(a);
    expect(pool.take(null)).to.equal(null);
  });

  it("skips a slave isolating a suspect op, giving up a cancelled op, or not ready; offers it again once free", () => {
    const pool = new SlavePool(options);
    const host = makeHost("a", [], 3);
    const isolating = makeSlave(1, host);
    const givingUp = makeSlave(2, host);
    const plain = makeSlave(3, host);
    for (const slave of [isolating, givingUp, plain]) pool.join(slave);
    isolating.isolating = makeOp(100);
    givingUp.givingUp = makeOp(101);
    expect(give(pool.take(null))).to.equal(plain);
    expect(give(pool.take(null))).to.equal(plain);
    expect(pool.take(null)).to.equal(null);
    isolating.isolating = null;
    pool.offer(isolating);
    expect(pool.take(null)).to.equal(isolating);
    // A slave that stopped being ready (it is dying) is not taken even if listed.
    givingUp.givingUp = null;
    givingUp.status = "dead";
    pool.offer(givingUp);
    expect(pool.take(null)).to.equal(isolating);
  });

  it("a tagged op goes only to slaves whose host has all of its tags; an untagged op to any", () => {
    const pool = new SlavePool(options);
    const both = makeHost("both", ["gpu", "fast"]);
    const gpu = makeHost("gpu", ["gpu"]);
    const plain = makeHost("plain");
    const slaves = [makeSlave(1, both, { depth: 10 }), makeSlave(2, gpu, { depth: 10 }), makeSlave(3, plain, { depth: 10 })];
    for (const slave of slaves) pool.join(slave);
    const hostsFor = (tags: ReturnType<typeof tagSet> | null) => new Set(Array.from({ length: 6 }, () => give(pool.take(tags)).host.name));
    expect([...hostsFor(tagSet("gpu", "fast"))]).to.deep.equal(["both"]);
    expect([...hostsFor(tagSet("gpu"))].sort()).to.deep.equal(["both", "gpu"]);
    expect([...hostsFor(null)].sort()).to.deep.equal(["both", "gpu", "plain"]);
    expect(pool.take(tagSet("tpu")), "no host has it").to.equal(null);
  });

  it("a slave that joins after a tag set was first asked for is listed for it", () => {
    const pool = new SlavePool(options);
    const gpu = tagSet("gpu");
    expect(pool.take(gpu)).to.equal(null);
    const late = makeSlave(1, makeHost("late", ["gpu"]));
    pool.join(late);
    expect(pool.take(gpu)).to.equal(late);
  });

  it("a slave filled by tagged ops is not taken for untagged ones", () => {
    const pool = new SlavePool(options);
    const gpu = tagSet("gpu");
    const a = makeSlave(1, makeHost("a", ["gpu"]), { depth: 2 });
    pool.join(a);
    give(pool.take(gpu));
    give(pool.take(gpu));
    expect(pool.take(null)).to.equal(null);
    finish(pool, a);
    expect(pool.take(null)).to.equal(a);
  });

  it("takeIdle gives only a slave with nothing in flight, not isolating nor giving up, on a host with the tags", () => {
    const pool = new SlavePool(options);
    const busy = makeSlave(1, makeHost("busy", ["gpu"]));
    const isolating = makeSlave(2, makeHost("iso", ["gpu"]));
    const untagged = makeSlave(3, makeHost("plain"));
    const idleGpu = makeSlave(4, makeHost("idle", ["gpu"]));
    for (const slave of [busy, isolating, untagged, idleGpu]) pool.join(slave);
    give(busy);
    isolating.isolating = makeOp(50);
    expect(pool.takeIdle(tagSet("gpu"))).to.equal(idleGpu);
    give(idleGpu);
    expect(pool.takeIdle(tagSet("gpu"))).to.equal(null);
    expect(pool.takeIdle(null)).to.equal(untagged);
  });

  it("observe sets the depth from the service time: 1 + budget / service, between 2 and maxDepth", () => {
    const pool = new SlavePool({ maxDepth: 64, pipelineBudgetUs: 1000 });
    const depthAfter = (serviceUs: number) => {
      const slave = makeSlave(1, makeHost("a"));
      pool.observe(slave, serviceUs);
      return slave.depth;
    };
    expect(depthAfter(1000)).to.equal(2);
    expect(depthAfter(50_000), "long ops: 2, never less").to.equal(2);
    expect(depthAfter(100)).to.equal(11);
    expect(depthAfter(30)).to.equal(1 + 34);
    expect(depthAfter(10), "tiny ops: capped").to.equal(64);
    expect(depthAfter(0)).to.equal(64);
  });

  it("observe smooths the service time (a fifth of each new sample) and keeps the pool's capacity true", () => {
    const pool = new SlavePool({ maxDepth: 256, pipelineBudgetUs: 1000 });
    const host = makeHost("a");
    const a = makeSlave(1, host);
    const b = makeSlave(2, host);
    pool.join(a);
    pool.join(b);
    expect(pool.capacity).to.equal(4);
    pool.observe(a, 100);
    expect(a.serviceUs).to.equal(100);
    expect(a.depth).to.equal(11);
    pool.observe(a, 600);
    expect(a.serviceUs).to.equal(200);
    expect(a.depth).to.equal(6);
    expect(pool.capacity).to.equal(6 + 2);
    pool.leave(a);
    expect(pool.capacity).to.equal(2);
    // Outside the pool, the depth changes but the capacity does not count it.
    pool.observe(a, 10);
    expect(pool.capacity).to.equal(2);
    pool.join(a);
    expect(pool.capacity).to.equal(2 + a.depth);
  });

  it("a deeper pipeline after observe gives the slave room at once when offered", () => {
    const pool = new SlavePool(options);
    const a = makeSlave(1, makeHost("a"), { depth: 2 });
    pool.join(a);
    give(pool.take(null));
    give(pool.take(null));
    expect(pool.take(null)).to.equal(null);
    pool.observe(a, 100); // depth 11
    pool.offer(a);
    expect(pool.take(null)).to.equal(a);
  });

  it("leave takes a slave out of every list: not taken, idle or tagged, and no longer counted", () => {
    const pool = new SlavePool(options);
    const gpu = tagSet("gpu");
    const a = makeSlave(1, makeHost("a", ["gpu"]));
    const b = makeSlave(2, makeHost("b", ["gpu"]));
    pool.join(a);
    pool.join(b);
    expect(pool.take(gpu)).to.not.equal(null); // the gpu list exists and holds both
    pool.leave(a);
    expect(pool.has(a)).to.equal(false);
    expect(pool.size).to.equal(1);
    expect([...pool]).to.deep.equal([b]);
    const seen = new Set<SlaveState>();
    for (let i = 0; i < 4; i++) {
      const slave = pool.take(i % 2 === 0 ? gpu : null);
      if (slave) seen.add(give(slave));
      const idle = pool.takeIdle(null);
      if (idle) seen.add(idle);
    }
    expect(seen.has(a)).to.equal(false);
    // Offering a slave that left does not put it back.
    pool.offer(a);
    expect(pool.takeIdle(null)).to.equal(null);
    expect(pool.take(null)).to.equal(null);
  });

  it("join twice or leave twice changes nothing", () => {
    const pool = new SlavePool(options);
    const a = makeSlave(1, makeHost("a"));
    pool.join(a);
    pool.join(a);
    expect(pool.size).to.equal(1);
    expect(pool.capacity).to.equal(2);
    pool.leave(a);
    pool.leave(a);
    expect(pool.size).to.equal(0);
    expect(pool.capacity).to.equal(0);
  });

  describe("cost of a take", () => {
    /** Counts every read of a slave's fields made through the proxy the pool holds. */
    function counted(slave: SlaveState, reads: { n: number }): SlaveState {
      return new Proxy(slave, {
        get(target, key, receiver) {
          reads.n++;
          return Reflect.get(target, key, receiver);
        },
      });
    }

    function fullPool(tagListFirst: boolean) {
      const pool = new SlavePool(options);
      const reads = { n: 0 };
      const gpu = tagSet("gpu");
      const hosts = Array.from({ length: 100 }, (_, i) => makeHost(`h${i}`, ["gpu"], 100));
      const full: SlaveState[] = [];
      for (let i = 0; i < 10_000; i++) {
        const slave = counted(makeSlave(i + 1, hosts[i % 100]!), reads);
        pool.join(slave);
        full.push(slave);
      }
      // An op asked for "gpu" once: every slave is listed for it too.
      if (tagListFirst) give(pool.take(gpu));
      // Fill them all through untagged takes, as the dispatcher would.
      for (let s = pool.take(null); s; s = pool.take(null)) give(s);
      expect(full.every((s) => s.inflight.size === 2)).to.equal(true);
      const free = makeSlave(99_999, makeHost("free", ["gpu", "new"]), { depth: 2 });
      pool.join(free);
      return { pool, reads, gpu, free };
    }

    it("does not look at the ten thousand full slaves in the pool", () => {
      const { pool, reads, free } = fullPool(false);
      reads.n = 0;
      for (let i = 0; i < 1000; i++) {
        const slave = pool.take(null);
        expect(slave).to.equal(free);
        finish(pool, give(slave));
      }
      expect(reads.n, "fields of full slaves read while taking").to.equal(0);
    });

    it("a slave listed for a tag set that filled up through other ops is looked at once, then dropped", () => {
      const { pool, reads, gpu, free } = fullPool(true);
      reads.n = 0;
      expect(pool.take(gpu)).to.equal(free);
      const firstTake = reads.n;
      expect(firstTake, "the first tagged take checks the full slaves still listed").to.be.above(0);
      finish(pool, free);
      reads.n = 0;
      for (let i = 0; i < 1000; i++) {
        const slave = pool.take(i % 2 === 0 ? null : gpu);
        expect(slave).to.equal(free);
        finish(pool, give(slave));
      }
      expect(reads.n, "once dropped, never looked at again").to.equal(0);
      // The first op asking for a new tag set lists the pool's slaves that qualify (once per tag set).
      expect(pool.take(tagSet("gpu", "new"))).to.equal(free);
    });
  });
});
