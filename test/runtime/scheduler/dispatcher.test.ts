// The dispatcher's rules, with the real queue, pool and context log and a recording stand-in for
// the scheduler: the context barrier (every slave's channel carries each op after exactly the
// context ops issued before it), suspect ops alone on an idle slave, tagged ops aside without
// holding up the others, stale ops run by a slave that replays the log exactly to their version.
import { expect } from "chai";
import { ContextLog } from "../../../core/runtime/scheduler/context-log.ts";
import { Dispatcher, type DispatchActions } from "../../../core/runtime/scheduler/dispatcher.ts";
import { OpQueue } from "../../../core/runtime/scheduler/op-queue.ts";
import { SlavePool } from "../../../core/runtime/scheduler/slave-pool.ts";
import { OpState, type HostState, type SlaveState, type TagSet, type WorkerOp } from "../../../core/runtime/scheduler/types.ts";
import { makeContext, makeHost, makeOp, makeSlave, tagSet } from "./fakes.ts";

type StreamEntry = { kind: "op"; op: WorkerOp } | { kind: "context"; seq: number };

function setup() {
  const queue = new OpQueue();
  const pool = new SlavePool({ maxDepth: 256, pipelineBudgetUs: 1000 });
  const log = new ContextLog();
  const hosts: HostState[] = [];
  const slaves = new Set<SlaveState>();
  /** What each slave's channel carried, in order. */
  const streams = new Map<SlaveState, StreamEntry[]>();
  const spawned: HostState[] = [];
  const retired: SlaveState[] = [];
  const isolation: string[] = [];
  let nextSlave = 1;
  let nextOp = 1;
  const stream = (slave: SlaveState) => {
    let list = streams.get(slave);
    if (!list) streams.set(slave, (list = []));
    return list;
  };
  // What the scheduler does for the dispatcher.
  const act: DispatchActions = {
    fits: () => true,
    sendOp(op, slave) {
      // A suspect op runs alone: never sent behind other ops, and nothing sent behind it.
      if (slave.isolating !== null) isolation.push(`op${op.id} sent to slave ${slave.id} while it isolates op${slave.isolating.id}`);
      if (op.deaths !== null && slave.inflight.size > 0) isolation.push(`suspect op${op.id} sent to slave ${slave.id} behind ${[...slave.inflight.keys()].map((id) => `op${id}`).join(", ")}`);
      op.slave = slave;
      op.state = OpState.Sent;
      if (op.deaths !== null) slave.isolating = op;
      slave.inflight.set(op.id, op);
      stream(slave).push({ kind: "op", op });
    },
    sendContext(entry, slave) {
      stream(slave).push({ kind: "context", seq: entry.seq });
    },
    spawnCatchUp(host) {
      spawned.push(host);
      slaves.add(makeSlave(nextSlave++, host, { status: "starting", surplus: true }));
    },
    retire(slave) {
      retired.push(slave);
      pool.leave(slave);
    },
    hosts: () => hosts.filter((host) => host.status !== "aside"),
    slaves: () => slaves,
  };
  const dispatcher = new Dispatcher(queue, pool, log, act);

  const t = {
    queue,
    pool,
    log,
    hosts,
    slaves,
    spawned,
    retired,
    dispatcher,
    host(name: string, tags: string[] = [], slots = 2) {
      const host = makeHost(name, tags, slots);
      hosts.push(host);
      return host;
    },
    /** A slave of `host` becomes ready (a starting one if given). */
    ready(host: HostState, fields: Partial<SlaveState> = {}, starting?: SlaveState) {
      const slave = starting ?? makeSlave(nextSlave++, host, fields);
      slave.status = "ready";
      slaves.add(slave);
      dispatcher.advance(slave);
      return slave;
    },
    issue(fields: Partial<WorkerOp> = {}) {
      const op = makeOp(nextOp++, { ctxVersion: log.version, ...fields });
      queue.push(op);
      return op;
    },
    context() {
      const entry = log.append((seq) => makeContext(seq));
      queue.push(entry);
      return entry;
    },
    /** The slave answered its first op (or `op`): it has room again. */
    finish(slave: SlaveState, op?: WorkerOp) {
      const done = op ?? slave.inflight.values().next().value!;
      slave.inflight.delete(done.id);
      done.state = OpState.Settled;
      if (slave.isolating === done) slave.isolating = null;
      pool.offer(slave);
    },
    /** The slave died: its ops go back, in issue order, as the scheduler does it. */
    lose(slave: SlaveState) {
      slave.status = "dead";
      pool.leave(slave);
      slave.host.slaves.delete(slave);
      slaves.delete(slave);
      const ops = [...slave.inflight.values()].sort((a, b) => a.id - b.id);
      slave.inflight.clear();
      for (const op of ops) {
        op.state = OpState.Waiting;
        op.slave = null;
      }
      dispatcher.requeue(ops);
      return ops;
    },
    /** A slave's channel as "op3" and "c1" entries. */
    seen(slave: SlaveState): string[] {
      return (streams.get(slave) ?? []).map((e) => (e.kind === "op" ? `op${e.op.id}` : `c${e.seq}`));
    },
    /** Every op each slave received came after exactly the context ops issued before it, in order; suspect ops ran alone. */
    checkVersions() {
      expect(isolation, "suspect ops alone").to.deep.equal([]);
      for (const [slave, entries] of streams) {
        let version = 0;
        for (const entry of entries) {
          if (entry.kind === "context") {
            expect(entry.seq, `slave ${slave.id} got context ops in order`).to.equal(version + 1);
            version = entry.seq;
          } else {
            expect(version, `op ${entry.op.id} on slave ${slave.id} saw context version`).to.equal(entry.op.ctxVersion);
          }
        }
      }
    },
  };
  return t;
}

describe("scheduler: dispatcher", () => {
  it("sends worker ops in issue order to pool slaves with room; the rest wait in the queue", () => {
    const t = setup();
    const host = t.host("a");
    const a = t.ready(host);
    const b = t.ready(host);
    const ops = Array.from({ length: 5 }, () => t.issue());
    t.dispatcher.pump();
    expect(t.seen(a)).to.deep.equal(["op1", "op3"]);
    expect(t.seen(b)).to.deep.equal(["op2", "op4"]);
    expect(t.queue.peek()).to.equal(ops[4]);
    t.finish(b);
    t.dispatcher.pump();
    expect(t.seen(b)).to.deep.equal(["op2", "op4", "op5"]);
    expect(t.queue.length).to.equal(0);
  });

  describe("the context barrier", () => {
    it("a context op leaves only once every worker op issued before it was sent, and then to every pool slave", () => {
      const t = setup();
      const host = t.host("a");
      const a = t.ready(host);
      const b = t.ready(host);
      for (let i = 0; i < 5; i++) t.issue(); // op1..op5: 4 fit
      const c1 = t.context();
      t.issue(); // op6, at version 1
      t.dispatcher.pump();
      expect(t.seen(a)).to.deep.equal(["op1", "op3"]);
      expect(t.seen(b)).to.deep.equal(["op2", "op4"]);
      expect(t.dispatcher.broadcastVersion, "op5 is not sent yet: the context op waits").to.equal(0);
      t.finish(a);
      t.dispatcher.pump();
      // op5 went out, so c1 could follow it to both slaves; op6 found no room.
      expect(t.seen(a)).to.deep.equal(["op1", "op3", "op5", "c1"]);
      expect(t.seen(b)).to.deep.equal(["op2", "op4", "c1"]);
      expect(t.dispatcher.broadcastVersion).to.equal(1);
      expect([...c1.pending].sort()).to.deep.equal([a.id, b.id]);
      expect([a.ctxSent, b.ctxSent]).to.deep.equal([1, 1]);
      t.finish(b);
      t.dispatcher.pump();
      expect(t.seen(b)).to.deep.equal(["op2", "op4", "c1", "op6"]);
      t.checkVersions();
    });

    it("back-to-back context ops go out together once the barrier opens", () => {
      const t = setup();
      const a = t.ready(t.host("a"));
      t.context();
      t.context();
      t.issue();
      t.context();
      t.dispatcher.pump();
      expect(t.seen(a)).to.deep.equal(["c1", "c2", "op1", "c3"]);
      t.checkVersions();
    });

    it("a slave that becomes ready replays the log up to the broadcast version, not past a context op still held", () => {
      const t = setup();
      const host = t.host("a", [], 3);
      const a = t.ready(host, { depth: 2 });
      t.context();
      t.issue();
      t.issue();
      t.issue(); // op3 finds no room: c2 is held behind it
      t.context();
      t.dispatcher.pump();
      expect(t.dispatcher.broadcastVersion).to.equal(1);
      const late = t.ready(host);
      expect(t.seen(late), "replayed c1 only").to.deep.equal(["c1"]);
      expect(t.pool.has(late)).to.equal(true);
      t.dispatcher.pump();
      expect(t.seen(late)).to.deep.equal(["c1", "op3", "c2"]);
      expect(t.seen(a)).to.deep.equal(["c1", "op1", "op2", "c2"]);
      t.checkVersions();
    });
  });

  describe("suspect ops (their slave died while running them)", () => {
    it("run alone on an idle slave; the ops behind wait for it, then use the other slaves", () => {
      const t = setup();
      const host = t.host("a");
      const busy = t.ready(host);
      const idle = t.ready(host);
      const running = t.issue();
      t.dispatcher.pump();
      expect(t.seen(busy)).to.deep.equal(["op1"]);
      const suspect = t.issue({ deaths: [{ where: "a:0", how: "killed by SIGSEGV" }] });
      const after = [t.issue(), t.issue(), t.issue()];
      t.dispatcher.pump();
      expect(t.seen(idle)).to.deep.equal(["op2"]);
      expect(idle.isolating).to.equal(suspect);
      // Nothing else goes to the isolating slave, though its depth would allow it.
      expect(t.seen(busy)).to.deep.equal(["op1", "op3"]);
      expect(t.queue.peek()).to.equal(after[1]);
      t.finish(idle);
      t.dispatcher.pump();
      expect(t.seen(idle)).to.deep.equal(["op2", "op4", "op5"]);
      void running;
    });

    it("wait at the head of the queue while no slave is idle, holding the ops behind", () => {
      const t = setup();
      const host = t.host("a");
      const a = t.ready(host);
      t.issue();
      t.dispatcher.pump();
      t.issue({ deaths: [{ where: "a:1", how: "exited with code 1" }] });
      t.issue();
      t.dispatcher.pump();
      expect(t.seen(a), "a has room but is not idle").to.deep.equal(["op1"]);
      expect(t.queue.length).to.equal(2);
      t.finish(a);
      t.dispatcher.pump();
      expect(t.seen(a)).to.deep.equal(["op1", "op2"]);
      expect(t.queue.length).to.equal(1);
    });
  });

  describe("tagged ops", () => {
    it("wait aside when no slave with their tags has room, without holding up untagged ops; go out when one has", () => {
      const t = setup();
      const gpuHost = t.host("gpu", ["gpu"]);
      const plainHost = t.host("plain");
      const gpu = t.ready(gpuHost, { depth: 1 });
      const plain = t.ready(plainHost, { depth: 4 });
      const gpuTags = tagSet("gpu");
      t.issue({ tags: gpuTags }); // fills gpu
      t.issue({ tags: gpuTags }); // waits aside
      t.issue();
      t.issue();
      t.dispatcher.pump();
      expect(t.seen(gpu)).to.deep.equal(["op1"]);
      expect(t.seen(plain)).to.deep.equal(["op3", "op4"]);
      expect(t.dispatcher.parked).to.equal(1);
      expect(t.queue.length).to.equal(0);
      t.finish(gpu);
      t.dispatcher.pump();
      expect(t.seen(gpu)).to.deep.equal(["op1", "op2"]);
      expect(t.dispatcher.parked).to.equal(0);
    });

    it("hold the context barrier while a host with their tags has slaves", () => {
      const t = setup();
      const gpu = t.ready(t.host("gpu", ["gpu"]), { depth: 1 });
      const plain = t.ready(t.host("plain"), { depth: 4 });
      const gpuTags = tagSet("gpu");
      t.issue({ tags: gpuTags });
      t.issue({ tags: gpuTags }); // waits aside, at version 0
      t.context();
      t.issue();
      t.dispatcher.pump();
      expect(t.dispatcher.broadcastVersion).to.equal(0);
      expect(t.seen(plain), "op3 is behind the held context op").to.deep.equal([]);
      t.finish(gpu);
      t.dispatcher.pump();
      expect(t.seen(gpu)).to.deep.equal(["op1", "op2", "c1"]);
      expect(t.seen(plain)).to.deep.equal(["c1", "op3"]);
      t.checkVersions();
    });

    it("no longer hold the barrier once no host with their tags has a slave: they run later at their version", () => {
      const t = setup();
      const gpuHost = t.host("gpu", ["gpu"]);
      const gpu = t.ready(gpuHost, { depth: 1 });
      const plain = t.ready(t.host("plain"), { depth: 4 });
      const gpuTags = tagSet("gpu");
      t.issue({ tags: gpuTags });
      const waiting = t.issue({ tags: gpuTags });
      t.context();
      t.issue();
      t.dispatcher.pump();
      // The gpu host's agent is lost: its slave goes, its op comes back.
      gpuHost.status = "connecting";
      const back = t.lose(gpu);
      expect(back.map((op) => op.id)).to.deep.equal([1]);
      t.dispatcher.pump();
      expect(t.dispatcher.broadcastVersion).to.equal(1);
      expect(t.seen(plain)).to.deep.equal(["c1", "op3"]);
      expect(t.dispatcher.parked).to.equal(2);
      // The host comes back: its new slave runs both at version 0, then catches up and joins.
      gpuHost.status = "up";
      const fresh = t.ready(gpuHost);
      const seen = t.seen(fresh);
      expect(seen.slice(0, 2).sort(), "both at version 0, in either order").to.deep.equal(["op1", "op2"]);
      expect(seen.slice(2)).to.deep.equal(["c1"]);
      expect(waiting.slave).to.equal(fresh);
      expect(t.pool.has(fresh)).to.equal(true);
      expect(t.dispatcher.parked).to.equal(0);
      t.checkVersions();
    });
  });

  describe("stale ops (to re-run at an older context version)", () => {
    it("an op taken back at the broadcast version goes to the front of the queue, in order", () => {
      const t = setup();
      const host = t.host("a");
      const a = t.ready(host);
      const b = t.ready(host, { depth: 1 });
      for (let i = 0; i < 6; i++) t.issue();
      t.dispatcher.pump();
      expect(t.seen(a)).to.deep.equal(["op1", "op3"]);
      t.lose(a);
      expect([...t.queue].map((e) => (e as WorkerOp).id)).to.deep.equal([1, 3, 4, 5, 6]);
      expect(t.spawned, "no catch-up needed").to.have.length(0);
      t.finish(b);
      t.dispatcher.pump();
      expect(t.seen(b)).to.deep.equal(["op2", "op1"]);
    });

    it("are run by a catch-up slave that replays exactly to their version, then to the current one, and stops once done", () => {
      const t = setup();
      const host = t.host("a", [], 2);
      const a = t.ready(host);
      const b = t.ready(host);
      t.issue(); // op1 @0 → a
      t.context();
      t.issue(); // op2 @1 → b
      t.context();
      t.issue(); // op3 @2 → a
      t.context();
      t.dispatcher.pump();
      expect(t.seen(a)).to.deep.equal(["op1", "c1", "c2", "op3", "c3"]);
      expect(t.seen(b)).to.deep.equal(["c1", "op2", "c2", "c3"]);
      t.lose(a);
      t.lose(b);
      expect(t.dispatcher.parked, "all three are older than version 3").to.equal(3);
      expect(t.spawned, "one catch-up slave for them all").to.deep.equal([host]);
      const catchUp = [...t.slaves].find((s) => s.status === "starting")!;
      t.ready(host, {}, catchUp);
      expect(t.seen(catchUp)).to.deep.equal(["op1", "c1", "op2", "c2", "op3", "c3"]);
      expect(catchUp.catchingUp).to.equal(false);
      expect(t.pool.has(catchUp), "it is not one of the host's slots").to.equal(false);
      expect(t.dispatcher.parked).to.equal(0);
      // The host's own restarted slaves replay to the current version and join the pool.
      const own = t.ready(host);
      expect(t.seen(own)).to.deep.equal(["c1", "c2", "c3"]);
      expect(t.pool.has(own)).to.equal(true);
      t.checkVersions();
    });

    it("a host's own restarted slave serves stale ops the same way, then joins the pool", () => {
      const t = setup();
      const host = t.host("a", [], 1);
      const a = t.ready(host);
      t.issue();
      t.context();
      t.issue();
      t.dispatcher.pump();
      t.lose(a);
      const own = t.ready(host); // before the catch-up slave
      t.dispatcher.pump(); // op2, at the current version, went back to the queue
      expect(t.seen(own)).to.deep.equal(["op1", "c1", "op2"]);
      expect(t.pool.has(own)).to.equal(true);
      t.checkVersions();
    });

    it("a surplus catch-up slave on a host that has its slots is retired once it has nothing in flight", () => {
      const t = setup();
      const host = t.host("a", [], 1);
      const a = t.ready(host);
      t.issue();
      t.issue(); // a holds op1, op2 @0
      t.context();
      t.dispatcher.pump();
      const [op1, op2] = t.lose(a);
      expect(t.spawned).to.deep.equal([host]);
      const surplus = [...t.slaves].find((s) => s.status === "starting")!;
      // The host's own replacement is ready first: starting at version 0, it runs them itself.
      const regular = t.ready(host);
      expect(t.seen(regular)).to.deep.equal(["op1", "op2", "c1"]);
      expect(t.pool.has(regular)).to.equal(true);
      expect(t.dispatcher.parked).to.equal(0);
      // So the catch-up slave has nothing to do and is retired at once.
      t.ready(host, {}, surplus);
      expect(t.seen(surplus)).to.deep.equal(["c1"]);
      expect(t.retired).to.deep.equal([surplus]);
      expect(t.pool.has(surplus)).to.equal(false);
      expect([op1!.slave, op2!.slave]).to.deep.equal([regular, regular]);
      t.checkVersions();
    });

    it("a surplus slave with ops in flight after catching up stays out of the pool; the host's own slave joins", () => {
      const t = setup();
      const host = t.host("a", [], 2);
      const a = t.ready(host);
      const b = t.ready(host);
      t.issue(); // op1 @0 → a
      t.context();
      t.dispatcher.pump();
      t.lose(a);
      expect(t.spawned).to.deep.equal([host]);
      const surplus = [...t.slaves].find((s) => s.status === "starting")!;
      // The scheduler restarts a's slot after its backoff: a regular slave starts too.
      const regular = makeSlave(99, host, { status: "starting" });
      t.slaves.add(regular);
      t.ready(host, {}, surplus);
      expect(t.seen(surplus)).to.deep.equal(["op1", "c1"]);
      expect(t.pool.has(surplus), "the host has its slots: b and a's replacement").to.equal(false);
      expect(t.retired, "not while op1 runs (the scheduler retires it after its result)").to.deep.equal([]);
      t.ready(host, {}, regular);
      expect(t.seen(regular)).to.deep.equal(["c1"]);
      expect(t.pool.has(regular)).to.equal(true);
      expect(t.pool.has(b)).to.equal(true);
      t.checkVersions();
    });

    it("ensureCatchUp spawns one slave, on the least loaded up host with the tags, and not twice", () => {
      const t = setup();
      const gpuTags = tagSet("gpu");
      const busy = t.host("busy", ["gpu"], 4);
      const light = t.host("light", ["gpu"], 4);
      const down = t.host("down", ["gpu"], 4);
      const plain = t.host("plain", [], 4);
      down.status = "connecting";
      const victim = t.ready(busy);
      t.ready(busy);
      t.ready(busy);
      t.ready(light);
      t.ready(plain);
      t.ready(plain);
      t.ready(plain);
      t.ready(plain);
      expect(plain.slaves.size).to.equal(4);
      t.issue({ tags: gpuTags });
      t.context();
      t.dispatcher.pump();
      expect(victim.inflight.size).to.equal(1);
      t.lose(victim); // busy: 2 slaves left, light: 1, plain: 4 (no tags), down: connecting
      expect(t.spawned).to.deep.equal([light]);
      t.dispatcher.ensureCatchUp();
      t.dispatcher.ensureCatchUp();
      expect(t.spawned, "a starting slave will serve it").to.deep.equal([light]);
    });

    it("ensureCatchUp spawns nothing while no up host has the tags; a host that comes up serves them", () => {
      const t = setup();
      const gpuHost = t.host("gpu", ["gpu"], 1);
      const gpu = t.ready(gpuHost);
      t.ready(t.host("plain"));
      t.issue({ tags: tagSet("gpu") });
      t.context();
      t.dispatcher.pump();
      gpuHost.status = "connecting";
      t.lose(gpu);
      expect(t.spawned).to.deep.equal([]);
      expect(t.dispatcher.parked).to.equal(1);
      gpuHost.status = "up";
      const back = t.ready(gpuHost);
      expect(t.seen(back)).to.deep.equal(["op1", "c1"]);
    });

    it("a suspect op among them runs alone on its catch-up slave; the ops at its version wait for another", () => {
      const t = setup();
      const host = t.host("a", [], 2);
      const a = t.ready(host);
      const b = t.ready(host);
      const suspect = t.issue(); // op1 → a
      t.issue(); // op2 → b
      t.issue(); // op3 → a
      t.context();
      t.dispatcher.pump();
      // a dies running op1, which is charged with it; b is lost with its agent's other slave.
      suspect.deaths = [{ where: "a:0", how: "killed by SIGSEGV" }];
      t.lose(a);
      t.lose(b);
      expect(t.dispatcher.parked).to.equal(3);
      for (let round = 0; round < 5 && t.dispatcher.parked > 0; round++) {
        const starting = [...t.slaves].filter((s) => s.status === "starting");
        expect(starting.length, "a catch-up slave is on its way").to.be.above(0);
        for (const slave of starting) t.ready(host, {}, slave);
        // Each finishes what it was given.
        for (const slave of t.slaves) while (slave.inflight.size > 0) t.finish(slave);
      }
      expect(t.dispatcher.parked).to.equal(0);
      t.checkVersions();
    });

    it("a stale op cancelled meanwhile (forget) is not run by the catch-up slave", () => {
      const t = setup();
      const host = t.host("a", [], 1);
      const a = t.ready(host);
      t.issue();
      t.issue();
      t.context();
      t.dispatcher.pump();
      const [op1] = t.lose(a);
      op1!.state = OpState.Settled;
      t.dispatcher.forget(op1!);
      expect(t.dispatcher.parked).to.equal(1);
      const fresh = t.ready(host, {}, [...t.slaves].find((s) => s.status === "starting"));
      expect(t.seen(fresh)).to.deep.equal(["op2", "c1"]);
    });
  });

  describe("ops no host can take, and the end of a run", () => {
    it("takeUnservable returns the parked ops whose tags no host left has, and keeps the others", () => {
      const t = setup();
      const gpuHost = t.host("gpu", ["gpu"], 1);
      const tpuHost = t.host("tpu", ["tpu"], 1);
      const gpu = t.ready(gpuHost, { depth: 1 });
      const tpu = t.ready(tpuHost, { depth: 1 });
      const gpuTags: TagSet = tagSet("gpu");
      const tpuTags: TagSet = tagSet("tpu");
      t.issue({ tags: gpuTags });
      t.issue({ tags: tpuTags });
      const waitingGpu = t.issue({ tags: gpuTags });
      const waitingTpu = t.issue({ tags: tpuTags });
      t.dispatcher.pump();
      expect(t.dispatcher.parked).to.equal(2);
      gpuHost.status = "aside";
      t.lose(gpu);
      expect(t.dispatcher.takeUnservable()).to.deep.equal([waitingGpu]);
      expect(t.dispatcher.parked).to.equal(1);
      t.finish(tpu);
      t.dispatcher.pump();
      expect(waitingTpu.slave).to.equal(tpu);
    });

    it("takeUnservable never returns untagged ops, even with no host left", () => {
      const t = setup();
      const host = t.host("a", [], 1);
      const a = t.ready(host);
      t.issue();
      t.context();
      t.dispatcher.pump();
      host.status = "aside";
      t.lose(a);
      expect(t.dispatcher.parked).to.equal(1);
      expect(t.dispatcher.takeUnservable()).to.deep.equal([]);
      expect(t.dispatcher.parked).to.equal(1);
    });

    it("drainParked returns every op waiting aside or for a catch-up, and forgets them", () => {
      const t = setup();
      const host = t.host("a", [], 1);
      const a = t.ready(host);
      t.issue();
      t.context();
      t.dispatcher.pump();
      const [stale] = t.lose(a); // older than version 1: waits for a catch-up
      const aside = t.issue({ tags: tagSet("tpu") });
      t.dispatcher.pump();
      expect(t.dispatcher.parked).to.equal(2);
      const drained = t.dispatcher.drainParked();
      expect(drained.map((op) => op.id).sort()).to.deep.equal([stale!.id, aside.id].sort());
      expect(t.dispatcher.parked).to.equal(0);
      expect(t.dispatcher.drainParked()).to.deep.equal([]);
    });
  });
});
