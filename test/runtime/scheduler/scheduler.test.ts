// The scheduler end to end, through a recording port whose slaves keep FIFO channels, on a clock
// the test moves: what a program sees when hosts come and go, slaves die, ops are cancelled or
// time out, ops ask for tags, and the run ends. Every op is checked to have run at exactly the
// context version it was issued at, and every promise to have settled once.
import { expect } from "chai";
import { AbortError, MntError, TimeoutError } from "../../../core/errors.ts";
import { PoisonOpError } from "../../../core/runtime/recovery.ts";
import { Scheduler, type SchedulerEvent, type SchedulerOptions, type WorkerRequest } from "../../../core/runtime/scheduler/scheduler.ts";
import type { WorkerOp } from "../../../core/runtime/scheduler/types.ts";
import { seededRandom } from "../../helpers/seeded-random.ts";
import { Cluster, FakeClock, Outcome, RecordingPort, valueOf } from "./fakes.ts";

const OPTIONS: SchedulerOptions = {
  workerNames: ["render"],
  contextNames: ["setGain"],
  hangGraceMs: 2000,
  waitForHostsMs: 30_000,
  poisonKills: 3,
  maxSlaveFailures: 10,
  maxStartFailures: 3,
  maxAgentFailures: 5,
  startTimeoutMs: 60_000,
  maxDepth: 256,
  pipelineBudgetUs: 1000,
};

function setup(overrides: Partial<SchedulerOptions> = {}) {
  const clock = new FakeClock();
  const port = new RecordingPort();
  const events: SchedulerEvent[] = [];
  const released: number[] = [];
  const scheduler = new Scheduler({ ...OPTIONS, ...overrides }, port, clock, {
    emit: (event) => events.push(event),
    released: (op) => released.push(op.id),
    describeInput: (op) => `<input ${op.id}>`,
  });
  const cluster = new Cluster(scheduler, port, clock);
  const outcomes: Outcome[] = [];
  const t = {
    clock,
    port,
    events,
    released,
    scheduler,
    cluster,
    outcomes,
    issue(request: Partial<WorkerRequest> = {}): { op: WorkerOp; outcome: Outcome } {
      const outcome = new Outcome();
      outcomes.push(outcome);
      const op = scheduler.issueWorker({ nameIndex: 0, payload: new Uint8Array(0), epoch: 0, ...request }, outcome);
      return { op, outcome };
    },
    issueMany(n: number, request: Partial<WorkerRequest> = {}) {
      return Array.from({ length: n }, () => t.issue(request));
    },
    context() {
      const outcome = new Outcome();
      outcomes.push(outcome);
      const entry = scheduler.issueContext(0, new Uint8Array(0), outcome);
      return { entry, outcome };
    },
    /** Adds a host, has its agent come up and its slaves get ready. */
    up(name: string, slots: number | "auto" = 2, tags: string[] = [], cores = 4) {
      scheduler.addHost(name, slots, tags);
      scheduler.hostUp(name, cores);
      cluster.readyAll();
    },
    eventsOf<K extends SchedulerEvent["kind"]>(kind: K): Array<Extract<SchedulerEvent, { kind: K }>> {
      return events.filter((e): e is Extract<SchedulerEvent, { kind: K }> => e.kind === kind);
    },
    /** Op ids sent to `slave`, in order. */
    sentTo(slave: number): number[] {
      return port.of("op").filter((c) => c.slave === slave).map((c) => c.op);
    },
    /** No promise settled twice (or was touched after it settled), and no op saw the wrong context version. */
    checkInvariants() {
      for (const outcome of outcomes) expect(outcome.calls, "settled at most once").to.be.at.most(1);
      expect(cluster.versionViolations()).to.deep.equal([]);
    },
  };
  return t;
}

function seedsFrom(text: string | undefined): number[] | null {
  if (!text) return null;
  return text.split(",").flatMap((part) => {
    const [from, to] = part.split("-").map(Number);
    return Array.from({ length: (to ?? from!) - from! + 1 }, (_, i) => from! + i);
  });
}

const idle = async (scheduler: Scheduler) => {
  let done = false;
  void scheduler.whenIdle().then(() => (done = true));
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe("scheduler", () => {
  describe("hosts and slaves", () => {
    it("connects every host added; a host that comes up gets one slave per slot, 'auto' meaning its cores", () => {
      const t = setup();
      t.scheduler.addHost("a", 2);
      t.scheduler.addHost("b", "auto");
      expect(t.port.of("connect").map((c) => c.host)).to.deep.equal(["a", "b"]);
      expect(t.port.of("spawn")).to.deep.equal([]);
      t.scheduler.hostUp("a", 16);
      t.scheduler.hostUp("b", 3);
      expect(t.port.of("spawn").map((c) => `${c.host}:${c.slot}`)).to.deep.equal(["a:0", "a:1", "b:0", "b:1", "b:2"]);
      expect(t.scheduler.stats().slaves, "none ready yet").to.equal(0);
      t.cluster.readyAll();
      expect(t.scheduler.stats().slaves).to.equal(5);
      expect(t.scheduler.stats().slavesStarted).to.equal(5);
      expect(t.eventsOf("slave.up").map((e) => `${e.host}:${e.slot}`)).to.deep.equal(["a:0", "a:1", "b:0", "b:1", "b:2"]);
      expect(t.eventsOf("slave.up").every((e) => !e.catchUp)).to.equal(true);
      expect(t.scheduler.hostNames("up")).to.deep.equal(["a", "b"]);
      expect(t.scheduler.pipelineCapacity).to.equal(10);
    });

    it("ops issued before any host is up wait, then run; each resolves once with its result and releases its epoch", async () => {
      const t = setup();
      const ops = t.issueMany(10);
      t.clock.flush();
      expect(t.port.of("op")).to.deep.equal([]);
      t.up("a", 2);
      t.up("b", 1);
      t.cluster.settleAll();
      for (const { op, outcome } of ops) {
        expect(outcome.state).to.equal("resolved");
        expect(outcome.value).to.equal(valueOf(op.id));
      }
      expect(t.released.sort((a, b) => a - b)).to.deep.equal(ops.map(({ op }) => op.id));
      expect(new Set(t.port.of("op").map((c) => c.host))).to.deep.equal(new Set(["a", "b"]));
      expect(await idle(t.scheduler)).to.equal(true);
      t.checkInvariants();
    });

    it("every op runs after exactly the context ops issued before it; a context op resolves once every live slave applied it", () => {
      const t = setup();
      t.up("a", 2);
      t.up("b", 2);
      const contexts = [];
      for (let round = 0; round < 5; round++) {
        t.issueMany(7);
        contexts.push(t.context());
      }
      t.issueMany(3);
      t.clock.flush();
      expect(contexts[0]!.outcome.state).to.equal("pending");
      t.cluster.settleAll();
      for (const { outcome } of contexts) expect(outcome.state).to.equal("resolved");
      // Every slave applied all five.
      for (const model of t.port.slaves.values()) expect(model.applied).to.equal(5);
      expect(t.scheduler.stats().contextOps).to.equal(5);
      t.checkInvariants();
    });

    it("a context op that throws on a slave rejects with that slave's error", () => {
      const t = setup();
      t.up("a", 2);
      const { entry, outcome } = t.context();
      t.cluster.contextFails.set(entry.seq, "setGain threw");
      t.cluster.settleAll();
      expect(outcome.state).to.equal("rejected");
      expect(outcome.error!.message).to.match(/^setGain threw \(slave \d\)$/);
    });
  });

  describe("slave deaths", () => {
    it("a dead slave's ops go back to the front of the queue in issue order, run elsewhere, each resolves once", () => {
      const t = setup();
      t.up("a", 2);
      const ops = t.issueMany(8);
      t.clock.flush();
      expect(t.sentTo(1)).to.deep.equal([1, 3]);
      expect(t.sentTo(2)).to.deep.equal([2, 4]);
      t.port.clear();
      t.cluster.exit(1, "killed by SIGKILL", true);
      const lost = t.eventsOf("slave.lost");
      expect(lost).to.have.length(1);
      expect(lost[0]).to.deep.include({ host: "a", slot: 0, slave: 1, reason: "killed by SIGKILL", requeued: 2 });
      // Slave 2 frees a place at a time: the taken-back ops go first, before op 5.
      t.cluster.answer(2, 1);
      t.clock.flush();
      t.cluster.answer(2, 1);
      t.clock.flush();
      expect(t.port.of("op").map((c) => c.op)).to.deep.equal([1, 3]);
      expect(t.port.of("op").map((c) => c.attempt), "a re-run knows it is one").to.deep.equal([1, 1]);
      t.clock.advance(0); // restart after the first loss: at once
      expect(t.port.of("spawn")).to.deep.equal([{ kind: "spawn", host: "a", slave: 3, slot: 0 }]);
      t.cluster.readyAll();
      t.cluster.settleAll();
      for (const { op, outcome } of ops) expect(outcome.value).to.equal(valueOf(op.id));
      expect(t.scheduler.stats()).to.deep.include({ slavesLost: 1, workerRerun: 2, workerDone: 8, slaves: 2 });
      t.checkInvariants();
    });

    it("restarts a slot at once after one loss, then after 100 ms, 200 ms… while no op finishes", () => {
      const t = setup();
      t.up("a", 1);
      const spawnsAt: number[] = [];
      for (let death = 1; death <= 4; death++) {
        const [live] = t.cluster.slavesOf("a");
        t.cluster.exit(live!, "exited with code 1");
        const before = t.port.of("spawn").length;
        const start = t.clock.now();
        while (t.port.of("spawn").length === before) t.clock.advance(1);
        spawnsAt.push(t.clock.now() - start);
        t.cluster.readyAll();
      }
      // advance(1) fires the 0 ms timer after 1 ms of fake time.
      expect(spawnsAt).to.deep.equal([1, 100, 200, 400]);
    });

    it("a result from a slave already declared lost is dropped: the op settles once, with the re-run's result", () => {
      const t = setup();
      t.up("a", 2);
      const { op, outcome } = t.issue();
      t.clock.flush();
      expect(t.sentTo(1)).to.deep.equal([op.id]);
      t.cluster.exit(1, "killed by SIGKILL", true);
      expect(t.sentTo(2)).to.deep.equal([op.id]);
      // The dead slave's answer arrives late (it was on the wire).
      t.scheduler.result(1, op.id, 10, false, () => "stale answer");
      expect(outcome.state).to.equal("pending");
      t.cluster.answer(2);
      expect(outcome.state).to.equal("resolved");
      expect(outcome.value).to.equal(valueOf(op.id));
      t.scheduler.result(1, op.id, 10, false, () => "stale answer");
      t.cluster.answer(2);
      expect(outcome.calls).to.equal(1);
      expect(t.scheduler.stats().workerDone).to.equal(1);
    });

    it("an op that keeps killing slaves runs alone after its first death and fails with a PoisonOpError at the third", () => {
      const t = setup();
      t.up("a", 2);
      const bad = t.issue();
      const good = t.issueMany(5);
      t.clock.flush();
      const deaths: number[] = [];
      for (let round = 0; round < 100 && bad.outcome.state === "pending"; round++) {
        // Whichever slave holds the bad op dies as it reaches it; the others answer.
        const holder = bad.op.slave?.id;
        if (holder !== undefined) {
          const model = t.port.slaves.get(holder)!;
          const first = model.queue.find((q) => q.kind === "op");
          if (first?.kind === "op" && first.op === bad.op) {
            if (bad.op.deaths !== null) {
              // Alone on its slave: nothing else was sent there.
              expect(model.queue.filter((q) => q.kind === "op")).to.have.length(1);
            }
            deaths.push(holder);
            t.cluster.exit(holder, "killed by SIGSEGV; last stderr: 5 is the bad one");
            continue;
          }
        }
        for (const id of t.cluster.slavesOf("a")) t.cluster.answer(id, 1);
        t.clock.advance(1000);
        t.cluster.readyAll();
      }
      expect(deaths).to.have.length(3);
      expect(bad.outcome.state).to.equal("rejected");
      const error = bad.outcome.error as PoisonOpError;
      expect(error).to.be.instanceOf(PoisonOpError);
      expect(error.message).to.match(/^render \(op 1, input <input 1>\) killed 3 slaves and was not run again: a:\d killed by SIGSEGV; last stderr: 5 is the bad one; a:\d killed by SIGSEGV/);
      expect(t.eventsOf("op.poisoned").map((e) => e.error)).to.deep.equal([error]);
      t.cluster.settleAll();
      for (const { op, outcome } of good) expect(outcome.value).to.equal(valueOf(op.id));
      expect(t.scheduler.stats()).to.deep.include({ workerPoisoned: 1, workerFailed: 1, workerDone: 5 });
      t.checkInvariants();
    });

    it("the op the slave said it was running is charged, not its oldest unanswered one (answers leave in batches)", () => {
      const t = setup({ poisonKills: 1 });
      t.up("a", 1);
      const first = t.issue();
      const second = t.issue();
      t.clock.flush();
      expect(first.op.slave, "both on the one slave").to.equal(second.op.slave);
      // The slave finished the first op, but its answer was still in its batch when the second killed it.
      t.cluster.exit(first.op.slave!.id, "killed by SIGSEGV", false, second.op.id);
      expect(first.op.deaths).to.equal(null);
      expect(second.outcome.state).to.equal("rejected");
      expect((second.outcome.error as Error).message).to.match(/^render \(op 2, input <input 2>\) killed 1 slaves/);
      t.cluster.drive(); // the slave's restart, after its backoff
      expect(first.outcome.value).to.equal(valueOf(first.op.id));
    });

    it("a slave that died in a context op (runningOp null) charges no worker op", () => {
      const t = setup({ poisonKills: 1 });
      t.up("a", 1);
      const { op, outcome } = t.issue();
      t.clock.flush();
      t.cluster.exit(op.slave!.id, "killed by SIGSEGV", false, null);
      expect(op.deaths).to.equal(null);
      t.cluster.drive();
      expect(outcome.state).to.equal("resolved");
    });

    it("a slave killed from outside (SIGKILL from someone else) is not charged to its op", () => {
      const t = setup({ poisonKills: 1 });
      t.up("a", 2);
      const { op, outcome } = t.issue();
      t.clock.flush();
      t.cluster.exit(op.slave!.id, "killed by SIGKILL", true);
      expect(op.deaths).to.equal(null);
      t.cluster.settleAll();
      expect(outcome.state).to.equal("resolved");
    });

    it("a re-run at an older context version gets a catch-up slave that replays exactly to it, then retires", () => {
      const t = setup();
      t.up("a", 1);
      const { op, outcome } = t.issue();
      const gain = t.context();
      t.clock.flush();
      expect(t.port.slaves.get(1)!.queue.map((q) => q.kind)).to.deep.equal(["op", "context"]);
      t.cluster.exit(1, "killed by SIGKILL", true); // before answering anything
      t.clock.advance(0);
      t.cluster.readyAll();
      const catchUp = t.eventsOf("slave.up").filter((e) => e.catchUp);
      expect(catchUp).to.have.length(1);
      t.cluster.settleAll();
      expect(outcome.value).to.equal(valueOf(op.id));
      expect(gain.outcome.state).to.equal("resolved");
      // The surplus slave is retired once done; its end is not a loss.
      const kills = t.port.of("kill");
      expect(kills.map((k) => k.slave)).to.deep.equal([catchUp[0]!.slave]);
      t.cluster.exit(kills[0]!.slave, "killed by SIGKILL", true);
      expect(t.eventsOf("slave.lost")).to.have.length(1);
      expect(t.scheduler.stats()).to.deep.include({ slaves: 1, slavesLost: 1 });
      t.checkInvariants();
    });
    it("a catch-up slave is numbered past its host's slots: no two slaves share a number, the slot's restart keeps its own", () => {
      const t = setup();
      t.up("a", 2);
      const ops = t.issueMany(2); // one on each slave
      t.context();
      t.clock.flush();
      const dying = ops[0]!.op.slave!;
      expect(dying.slot).to.equal(0);
      t.cluster.exit(dying.id, "killed by SIGKILL", true);
      const catchUp = t.port.of("spawn").at(-1)!;
      expect(catchUp.slot).to.equal(2);
      t.clock.advance(0);
      expect(t.port.of("spawn").at(-1)).to.deep.include({ slot: 0 });
      t.cluster.readyAll();
      expect(t.eventsOf("slave.up").filter((e) => e.catchUp).map((e) => e.slot)).to.deep.equal([2]);
      t.cluster.drive();
      expect(t.cluster.slavesOf("a").map((id) => t.port.slaves.get(id)!.slot).sort()).to.deep.equal([0, 1]);
    });

    it("a host runs as many slaves as its slots: a catch-up slave ready before the slot's restart stops once done", () => {
      const t = setup();
      t.up("a", 1);
      t.cluster.exit(1, "killed by SIGKILL", true); // a first loss: the next restart waits 100 ms
      t.clock.advance(0);
      t.cluster.readyAll();
      const { op, outcome } = t.issue();
      t.context();
      t.clock.flush();
      t.cluster.exit(op.slave!.id, "killed by SIGKILL", true);
      // The catch-up slave starts at once and is ready before the slot's restart is due.
      t.cluster.readyAll();
      t.cluster.settleAll();
      expect(outcome.value).to.equal(valueOf(op.id));
      t.cluster.drive();
      expect(t.cluster.slavesOf("a"), "one slot, one slave").to.have.length(1);
      expect(t.scheduler.stats().slaves).to.equal(1);
      // And when that slave dies, the slot is restarted.
      t.cluster.exit(t.cluster.slavesOf("a")[0]!, "killed by SIGKILL", true);
      t.cluster.drive();
      expect(t.cluster.slavesOf("a")).to.have.length(1);
      expect(t.scheduler.stats().slaves).to.equal(1);
    });
  });

  describe("user exceptions and retries", () => {
    it("an op that throws rejects with the slave's error; the slave is not lost", () => {
      const t = setup();
      t.up("a", 1);
      const { op, outcome } = t.issue();
      t.clock.flush();
      const thrown = new Error("tile out of range");
      t.cluster.answer(op.slave!.id, 1, () => thrown);
      expect(outcome.error).to.equal(thrown);
      expect(t.scheduler.stats()).to.deep.include({ workerFailed: 1, slavesLost: 0, slaves: 1 });
    });

    it("{ retries: 1 } runs it again after an exception, as attempt 1", () => {
      const t = setup();
      t.up("a", 1);
      const { op, outcome } = t.issue({ retries: 1 });
      t.clock.flush();
      t.cluster.answer(1, 1, () => new Error("flaky"));
      t.clock.flush();
      expect(t.port.of("op").map((c) => c.attempt)).to.deep.equal([0, 1]);
      t.cluster.answer(1, 1);
      expect(outcome.value).to.equal(valueOf(op.id));
      expect(t.scheduler.stats()).to.deep.include({ workerRetried: 1, workerFailed: 0, workerDone: 1 });
    });
  });

  describe("cancel", () => {
    it("a queued op that is cancelled rejects at once and is never sent", () => {
      const t = setup();
      t.scheduler.addHost("a", 1);
      const first = t.issue();
      const second = t.issue();
      t.clock.flush();
      const error = new AbortError("render was cancelled");
      t.scheduler.cancel(first.op, error);
      expect(first.outcome.error).to.equal(error);
      t.scheduler.hostUp("a", 4);
      t.cluster.readyAll();
      t.cluster.settleAll();
      expect(t.port.of("op").map((c) => c.op)).to.deep.equal([second.op.id]);
      expect(t.port.of("cancel")).to.deep.equal([]);
      expect(second.outcome.state).to.equal("resolved");
      expect(t.scheduler.stats().workerFailed).to.equal(1);
    });

    it("a running op: Cancel is sent, its slave takes no work until it answers, the ops behind it run elsewhere", () => {
      const t = setup();
      t.up("a", 2);
      const ops = t.issueMany(4);
      t.clock.flush();
      expect(t.sentTo(1)).to.deep.equal([1, 3]);
      const error = new AbortError("render was cancelled");
      t.scheduler.cancel(ops[0]!.op, error);
      expect(ops[0]!.outcome.error).to.equal(error);
      expect(t.port.of("cancel")[0]).to.deep.include({ slave: 1, op: 1 });
      expect(t.scheduler.stats().slaves, "slave 1 left the pool").to.equal(1);
      const later = t.issueMany(2);
      t.clock.flush();
      expect(t.sentTo(1), "nothing new for slave 1").to.deep.equal([1, 3]);
      t.cluster.answer(2, 1);
      t.clock.flush();
      expect(t.sentTo(2), "op 3 went to slave 2 first").to.deep.equal([2, 4, 3]);
      // Slave 1 gives up op 1 (then it takes work again, or is replaced).
      t.cluster.answer(1, 1);
      t.cluster.drive();
      expect(t.scheduler.stats().slaves).to.equal(2);
      expect(ops[0]!.outcome.calls).to.equal(1);
      for (const { op, outcome } of [...ops.slice(1), ...later]) expect(outcome.value, `op ${op.id}`).to.equal(valueOf(op.id));
      t.checkInvariants();
    });

    it("a slave that does not give up a cancelled op within hangGraceMs is killed and replaced; the death is not the op's", () => {
      const t = setup();
      t.up("a", 1);
      const [stuck, behind] = t.issueMany(2);
      t.clock.flush();
      t.scheduler.cancel(stuck!.op, new AbortError("render was cancelled"));
      t.clock.advance(1999);
      expect(t.port.of("kill")).to.deep.equal([]);
      t.clock.advance(1);
      expect(t.port.of("kill")).to.deep.equal([{ kind: "kill", host: "a", slave: 1 }]);
      t.cluster.exit(1, "killed by SIGKILL", false);
      expect(t.eventsOf("slave.lost")[0]!.reason).to.equal("killed by the master: render (op 1) was still running 2000 ms after it was cancelled");
      expect(stuck!.op.deaths).to.equal(null);
      t.clock.advance(0);
      t.cluster.readyAll();
      t.cluster.settleAll();
      expect(behind!.outcome.value).to.equal(valueOf(behind!.op.id));
      expect(stuck!.outcome.calls).to.equal(1);
      t.checkInvariants();
    });

    it("a slave that gives up in time is not killed", () => {
      const t = setup();
      t.up("a", 1);
      const [op] = t.issueMany(1);
      t.clock.flush();
      t.scheduler.cancel(op!.op, new AbortError("cancelled"));
      t.cluster.answer(1);
      t.clock.advance(10_000);
      expect(t.port.of("kill")).to.deep.equal([]);
      expect(t.scheduler.stats().slaves).to.equal(1);
    });

    it("an op taken from behind a cancelled one gets the result of a run of its own, never the skip answer to the cancel (one slot: it may go back to that slave)", () => {
      const t = setup();
      t.up("a", 1);
      const [first, second] = t.issueMany(2);
      t.clock.flush();
      expect(t.sentTo(1)).to.deep.equal([1, 2]);
      t.scheduler.cancel(first!.op, new AbortError("render was cancelled"));
      // The slave gives up op 1; its answer arrives on its own, and the master dispatches.
      t.cluster.answer(1, 1);
      t.clock.flush();
      // Whatever the slave does with op 2 then, it must not pass for the result of a later run.
      t.cluster.drive();
      expect(second!.outcome.state).to.equal("resolved");
      expect(second!.outcome.value).to.equal(valueOf(2));
      t.checkInvariants();
    });
  });

  describe("timeouts", () => {
    it("an op's timeout counts only while it is on a slave; when it fires the op rejects and its slave is told", () => {
      const t = setup();
      t.scheduler.addHost("a", 1);
      const { op, outcome } = t.issue({ timeout: 300 });
      t.clock.advance(1000); // queued, no slave: not counted
      expect(outcome.state).to.equal("pending");
      t.scheduler.hostUp("a", 4);
      t.cluster.readyAll();
      t.clock.advance(299);
      expect(outcome.state).to.equal("pending");
      t.clock.advance(1);
      expect(outcome.state).to.equal("rejected");
      expect(outcome.error).to.be.instanceOf(TimeoutError);
      expect(outcome.error!.message).to.equal("render (op 1) got no result within 300 ms");
      expect(t.port.of("cancel")).to.deep.equal([{ kind: "cancel", host: "a", slave: 1, op: op.id }]);
      t.clock.advance(2000);
      expect(t.port.of("kill")).to.have.length(1);
      t.cluster.exit(1, "killed by SIGKILL");
      expect(t.eventsOf("slave.lost")[0]!.reason).to.match(/was still running 2000 ms after it was timed out$/);
    });

    it("opTimeoutMs applies to ops without a timeout of their own; an answer in time stops it", () => {
      const t = setup({ opTimeoutMs: 500 });
      t.up("a", 2);
      const quick = t.issue();
      const slow = t.issue({ timeout: 5000 });
      const stuck = t.issue();
      t.clock.flush();
      t.cluster.answer(quick.op.slave!.id, 1);
      t.clock.advance(500);
      expect(quick.outcome.state).to.equal("resolved");
      expect(stuck.outcome.error).to.be.instanceOf(TimeoutError);
      expect(slow.outcome.state).to.equal("pending");
    });
  });

  describe("tags", () => {
    it("a tagged op runs only on hosts with all of its tags", () => {
      const t = setup();
      t.up("gpu", 1, ["gpu", "cuda"]);
      t.up("half", 2, ["gpu"]);
      t.up("plain", 2);
      const tagged = t.issueMany(6, { tags: ["cuda", "gpu"] });
      const loose = t.issueMany(6, { tags: ["gpu"] });
      const any = t.issueMany(6);
      t.cluster.settleAll();
      const hostOf = new Map(t.port.of("op").map((c) => [c.op, c.host]));
      for (const { op } of tagged) expect(hostOf.get(op.id)).to.equal("gpu");
      for (const { op } of loose) expect(["gpu", "half"]).to.include(hostOf.get(op.id));
      for (const { outcome } of [...tagged, ...loose, ...any]) expect(outcome.state).to.equal("resolved");
      t.checkInvariants();
    });

    it("a tagged op that no host in the inventory can take rejects at once with a placement error naming the tags", () => {
      const t = setup();
      t.scheduler.addHost("a", 1, ["gpu"]);
      const one = t.issue({ tags: ["tpu"] });
      expect(one.outcome.state).to.equal("rejected");
      const error = one.outcome.error as MntError;
      expect(error).to.be.instanceOf(MntError);
      expect(error.code).to.equal("placement");
      expect(error.message).to.equal("render asks for hosts tagged tpu, and no host in the inventory has that tag (add the tags to a host in hosts.yaml, or drop them from the op)");
      const two = t.issue({ tags: ["tpu", "gpu"] });
      expect(two.outcome.error!.message).to.match(/^render asks for hosts tagged gpu, tpu, and no host in the inventory has all of them/);
      t.clock.flush();
      expect(t.port.of("op")).to.deep.equal([]);
      expect(t.scheduler.isIdle).to.equal(true);
    });

    it("ops waiting for a host with their tags reject once every such host is set aside; the others go on", async () => {
      const t = setup();
      t.scheduler.addHost("gpu", 1, ["gpu"]); // never comes up
      t.up("plain", 1);
      const waiting = t.issue({ tags: ["gpu"] });
      const plain = t.issue();
      t.clock.flush();
      expect(plain.op.slave).to.not.equal(null);
      t.scheduler.hostFailed("gpu", "gpu: host key changed", true);
      expect(waiting.outcome.state).to.equal("rejected");
      expect((waiting.outcome.error as MntError).code).to.equal("placement");
      expect(waiting.outcome.error!.message).to.equal("render asks for hosts tagged gpu, and every such host was set aside (last: gpu: gpu: host key changed) (fix those hosts, then run again)");
      t.cluster.settleAll();
      expect(plain.outcome.state).to.equal("resolved");
      expect(await idle(t.scheduler)).to.equal(true);
    });

    it("a tagged op issued after every host with its tags was set aside rejects too", async () => {
      const t = setup();
      t.scheduler.addHost("gpu", 1, ["gpu"]);
      t.up("plain", 1);
      t.scheduler.hostFailed("gpu", "wrong build", true);
      const late = t.issue({ tags: ["gpu"] });
      t.clock.flush();
      expect(late.outcome.state).to.equal("rejected");
      expect((late.outcome.error as MntError).code).to.equal("placement");
      expect(late.outcome.error!.message).to.equal("render asks for hosts tagged gpu, and every such host was set aside (gpu: wrong build) (fix those hosts, then run again)");
      expect(await idle(t.scheduler)).to.equal(true);
    });

    it("a tagged op running on a host that is then set aside rejects, and does not hold up the other ops", async () => {
      const t = setup({ maxSlaveFailures: 1 });
      t.up("gpu", 1, ["gpu"]);
      t.up("plain", 1);
      const tagged = t.issue({ tags: ["gpu"] });
      t.clock.flush();
      expect(tagged.op.slave!.host.name).to.equal("gpu");
      // Its slave dies (charged to the op: it is now suspect) and the host is set aside.
      t.cluster.exit(tagged.op.slave!.id, "killed by SIGSEGV");
      expect(t.eventsOf("host.aside").map((e) => e.host)).to.deep.equal(["gpu"]);
      const after = t.issueMany(3);
      t.cluster.settleAll();
      for (const { outcome } of after) expect(outcome.state).to.equal("resolved");
      expect(tagged.outcome.state).to.equal("rejected");
      expect((tagged.outcome.error as MntError).code).to.equal("placement");
      expect(tagged.outcome.error!.message).to.match(/^render asks for hosts tagged gpu, and every such host was set aside \(last: gpu: 1 slaves in a row died/);
      expect(await idle(t.scheduler)).to.equal(true);
    });
  });

  describe("hosts failing", () => {
    it("a lost agent takes its slaves along; it is reconnected at once, then after 500 ms, and set aside after maxAgentFailures", () => {
      const t = setup({ maxAgentFailures: 3 });
      t.up("a", 2);
      t.up("b", 1);
      const ops = t.issueMany(3);
      t.clock.flush();
      const onA = ops.filter(({ op }) => op.slave!.host.name === "a");
      t.port.clear();
      t.scheduler.hostFailed("a", "connection reset", false);
      expect(t.eventsOf("slave.lost").map((e) => e.reason)).to.deep.equal(["agent lost: connection reset", "agent lost: connection reset"]);
      expect(t.eventsOf("agent.retry")).to.deep.equal([{ kind: "agent.retry", host: "a", attempt: 2, delayMs: 0 }]);
      t.clock.advance(0);
      expect(t.port.of("connect")).to.deep.equal([{ kind: "connect", host: "a" }]);
      t.scheduler.hostFailed("a", "connection refused", false);
      expect(t.eventsOf("agent.retry")[1]).to.deep.include({ attempt: 3, delayMs: 500 });
      t.clock.advance(499);
      expect(t.port.of("connect")).to.have.length(1);
      t.clock.advance(1);
      expect(t.port.of("connect")).to.have.length(2);
      t.scheduler.hostFailed("a", "connection refused", false);
      expect(t.eventsOf("host.aside")).to.deep.equal([{ kind: "host.aside", host: "a", reason: "its agent failed 3 times in a row (last: connection refused)" }]);
      expect(t.port.of("disconnect")).to.deep.equal([{ kind: "disconnect", host: "a" }]);
      // Its ops ran on b.
      t.cluster.settleAll();
      for (const { op, outcome } of onA) expect(outcome.value).to.equal(valueOf(op.id));
      expect(t.scheduler.fatalError).to.equal(null);
      t.checkInvariants();
    });

    it("a slot restart still pending when the agent reconnects does not add a slave to the new ones", () => {
      const t = setup();
      t.up("a", 2);
      t.cluster.exit(1, "killed by SIGKILL", true);
      t.clock.advance(0);
      t.cluster.readyAll();
      t.cluster.exit(3, "killed by SIGKILL", true); // the second loss in a row: restart in 100 ms
      t.cluster.agentLost("a");
      t.clock.advance(0);
      t.scheduler.hostUp("a", 4); // two fresh slaves
      t.cluster.readyAll();
      t.clock.advance(1000);
      t.cluster.readyAll();
      expect(t.cluster.slavesOf("a")).to.have.length(2);
      expect(t.scheduler.stats().slaves).to.equal(2);
    });

    it("a host whose slaves die while starting is set aside after maxStartFailures", () => {
      const t = setup({ maxStartFailures: 2 });
      t.scheduler.addHost("a", 1);
      t.up("b", 1);
      t.scheduler.hostUp("a", 4);
      const [first] = t.cluster.slavesOf("a");
      t.cluster.exit(first!, "exited with code 9; last stderr: node: bad option");
      t.clock.advance(0);
      const [second] = t.cluster.slavesOf("a");
      expect(second).to.not.equal(first);
      t.cluster.exit(second!, "exited with code 9; last stderr: node: bad option");
      expect(t.eventsOf("host.aside")).to.deep.equal([{ kind: "host.aside", host: "a", reason: "its slaves die while starting (last: exited with code 9; last stderr: node: bad option)" }]);
      expect(t.scheduler.hostNames("up")).to.deep.equal(["b"]);
    });

    it("slaves are spawned with a start-up limit that grows with what their host showed: its agent's start-up, its earlier slaves' starts", () => {
      const t = setup({ startTimeoutMs: 10_000 });
      t.scheduler.addHost("fast", 1);
      t.scheduler.addHost("slow", 1);
      t.scheduler.hostUp("fast", 4, 120);
      t.scheduler.hostUp("slow", 4, 3000);
      const [fast] = t.cluster.slavesOf("fast");
      const [slow] = t.cluster.slavesOf("slow");
      expect(t.port.startLimits.get(fast!), "an agent of ordinary speed: the user's limit").to.equal(10_000);
      expect(t.port.startLimits.get(slow!), "its agent took 3× an ordinary 1 s").to.equal(30_000);
      t.clock.advance(20_000);
      t.cluster.readyAll();
      t.cluster.exit(slow!, "killed by SIGSEGV");
      t.clock.advance(0);
      const [next] = t.cluster.slavesOf("slow");
      expect(next).to.not.equal(slow);
      expect(t.port.startLimits.get(next!), "3× its slave's 20 s start").to.equal(60_000);
    });

    it("slaves still starting past their limit are failed starts: 3 in a row set the host aside, naming the limit and the setting that raises it", () => {
      const t = setup({ startTimeoutMs: 2000, settingNames: { startTimeoutMs: "--start-timeout" } });
      t.scheduler.addHost("a", 1);
      t.up("b", 1);
      t.scheduler.hostUp("a", 4, 20);
      const late = "still starting after 2004 ms, past its start-up limit of 2000 ms; the agent killed it";
      for (let i = 0; i < 3; i++) {
        const [slave] = t.cluster.slavesOf("a");
        expect(t.port.startLimits.get(slave!)).to.equal(2000);
        t.clock.advance(2004);
        t.cluster.exit(slave!, late, true);
        t.clock.advance(1000);
      }
      expect(t.eventsOf("host.aside")).to.deep.equal([
        { kind: "host.aside", host: "a", reason: `its slaves did not start within the start-up limit of 2000 ms, 3 in a row (last: ${late}); raise the limit with --start-timeout` },
      ]);
      expect(t.scheduler.hostNames("up")).to.deep.equal(["b"]);
    });

    it("with every host set aside the run fails at once, naming each host and why", () => {
      const t = setup();
      t.up("a", 1);
      t.scheduler.addHost("b", 1);
      const queued = t.issueMany(3);
      const gain = t.context();
      t.clock.flush();
      t.scheduler.hostFailed("b", "b: permission denied (publickey)", true);
      expect(t.scheduler.fatalError).to.equal(null);
      t.scheduler.hostFailed("a", "a: the agent speaks protocol 3, mnt 4", true);
      const fatal = t.eventsOf("fatal");
      expect(fatal).to.have.length(1);
      expect(fatal[0]!.error.code).to.equal("infrastructure");
      expect(fatal[0]!.error.message).to.equal(
        "no host is left to run on: a: set aside (a: the agent speaks protocol 3, mnt 4); b: set aside (b: permission denied (publickey)) (fix the hosts, then run again)",
      );
      expect(t.scheduler.fatalError).to.equal(fatal[0]!.error);
      for (const { outcome } of [...queued, gain]) expect(outcome.error).to.equal(fatal[0]!.error);
    });

    it("the last host set aside while an untagged op waits to re-run at an older version: the run fails, naming the host", () => {
      const t = setup();
      t.up("a", 1);
      const { outcome } = t.issue();
      t.context();
      t.clock.flush(); // the op, then the context op, went to a's slave
      t.scheduler.hostFailed("a", "a: corrupt frame", true);
      expect(t.scheduler.fatalError?.message).to.match(/^no host is left to run on: a: set aside \(a: corrupt frame\)/);
      expect(outcome.error).to.equal(t.scheduler.fatalError);
    });

    it("with no host up, the run waits waitForHostsMs for one to come back, then fails naming each host", () => {
      const t = setup({ waitForHostsMs: 30_000 });
      t.up("a", 1);
      const { outcome } = t.issue();
      t.clock.flush();
      t.scheduler.hostFailed("a", "connection reset", false);
      t.clock.advance(0);
      t.scheduler.hostFailed("a", "connection refused", false);
      t.clock.advance(29_999);
      expect(t.scheduler.fatalError).to.equal(null);
      expect(outcome.state).to.equal("pending");
      t.clock.advance(1);
      expect(t.scheduler.fatalError?.message).to.equal("no host came back within 30000 ms: a: reconnecting (connection refused) (fix the hosts, then run again)");
      expect(outcome.error).to.equal(t.scheduler.fatalError);
    });

    it("a host that comes back within waitForHostsMs keeps the run going", () => {
      const t = setup({ waitForHostsMs: 30_000 });
      t.up("a", 1);
      const { op, outcome } = t.issue();
      t.clock.flush();
      t.scheduler.hostFailed("a", "connection reset", false);
      t.clock.advance(10_000);
      t.scheduler.hostUp("a", 4);
      t.cluster.readyAll();
      t.clock.advance(60_000);
      expect(t.scheduler.fatalError).to.equal(null);
      t.cluster.settleAll();
      expect(outcome.value).to.equal(valueOf(op.id));
    });
  });

  describe("run control", () => {
    it("whenIdle resolves once no op is queued or running and every context op settled", async () => {
      const t = setup();
      expect(await idle(t.scheduler), "nothing issued").to.equal(true);
      t.up("a", 1);
      t.issueMany(3);
      t.context();
      t.clock.flush();
      const waiting = idle(t.scheduler);
      t.cluster.answer(1, 2);
      t.clock.flush();
      expect(await waiting).to.equal(false);
      t.cluster.settleAll();
      expect(await idle(t.scheduler)).to.equal(true);
    });

    it("close() abandons every op and context op not finished, stops reconnecting, ignores late answers", async () => {
      const t = setup();
      t.up("a", 1);
      t.scheduler.addHost("gpu", 1, ["gpu"]);
      t.scheduler.hostFailed("gpu", "connection refused", false);
      t.clock.advance(0);
      t.scheduler.hostFailed("gpu", "connection refused", false); // a reconnection in 500 ms
      const running = t.issueMany(2);
      const queued = t.issueMany(3);
      const aside = t.issue({ tags: ["gpu"] });
      const gain = t.context();
      t.clock.flush();
      t.scheduler.close("the run is stopping");
      for (const { outcome } of [...running, ...queued, aside, gain]) {
        expect(outcome.state).to.equal("abandoned");
        expect(outcome.error).to.be.instanceOf(AbortError);
        expect(outcome.error!.message).to.equal("the run is stopping");
      }
      expect(t.clock.pendingTimers(true), "no reconnection or wait keeps the process alive").to.equal(0);
      const connects = t.port.of("connect").length;
      t.clock.advance(60_000);
      expect(t.port.of("connect")).to.have.length(connects);
      t.scheduler.hostUp("gpu", 4);
      expect(t.port.of("spawn").filter((c) => c.host === "gpu")).to.deep.equal([]);
      t.cluster.answer(1);
      t.checkInvariants();
      expect(t.scheduler.stats()).to.deep.include({ workerDone: 0, workerQueued: 0 });
      expect(await idle(t.scheduler)).to.equal(true);
    });

    it("stats: queued and running count worker ops not settled, not context ops nor cancelled ops", () => {
      const t = setup();
      t.up("a", 1); // depth 2
      const ops = t.issueMany(4);
      t.context();
      t.issue();
      t.clock.flush();
      expect(t.scheduler.stats()).to.deep.include({ workerRunning: 2, workerQueued: 3 });
      t.scheduler.cancel(ops[2]!.op, new AbortError("cancelled")); // queued
      t.scheduler.cancel(ops[1]!.op, new AbortError("cancelled")); // in the slave's pipeline, not started
      expect(t.scheduler.stats()).to.deep.include({ workerRunning: 1, workerQueued: 2, workerFailed: 2 });
      t.cluster.settleAll();
      expect(t.scheduler.stats()).to.deep.include({ workerRunning: 0, workerQueued: 0, workerDone: 3, workerFailed: 2 });
    });

    it("stats count what happened", () => {
      const t = setup();
      t.up("a", 2);
      const ok = t.issueMany(4);
      const retried = t.issue({ retries: 1 });
      t.clock.flush();
      expect(t.scheduler.stats()).to.deep.include({ slaves: 2, workerRunning: 4, workerQueued: 1 });
      t.cluster.exit(1, "killed by SIGKILL", true);
      t.clock.advance(0);
      t.cluster.readyAll();
      let failedOnce = false;
      for (let i = 0; i < 20; i++) {
        for (const id of t.cluster.slavesOf("a")) {
          t.cluster.answer(id, Infinity, (op) => {
            if (op.id !== retried.op.id || failedOnce) return null;
            failedOnce = true;
            return new Error("flaky");
          });
        }
        t.clock.flush();
      }
      const gain = t.context();
      t.cluster.settleAll();
      for (const { outcome } of [...ok, retried, gain]) expect(outcome.state).to.equal("resolved");
      expect(t.scheduler.stats()).to.deep.equal({
        slaves: 2,
        slavesStarted: 3,
        workerDone: 5,
        workerQueued: 0,
        workerRunning: 0,
        workerFailed: 0,
        workerRetried: 1,
        slavesLost: 1,
        workerRerun: 2,
        workerPoisoned: 0,
        contextOps: 1,
      });
    });
  });

  describe("random faults (seeded)", () => {
    // SCHEDULER_SEEDS=9-500 (or 3,17) runs other seeds; a failure names the one that replays it.
    for (const seed of seedsFrom(process.env.SCHEDULER_SEEDS) ?? [1, 2, 3, 4, 5, 6, 7, 8]) {
      it(`seed ${seed}: deaths, agent losses, cancels, timeouts, retries and context ops; every op settles once, right, at its version`, () => {
        const random = seededRandom(seed);
        const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
        const t = setup({ poisonKills: 3, maxSlaveFailures: 1000, maxAgentFailures: 1000 });
        const hosts = ["a", "b", "c"];
        for (const host of hosts) t.up(host, 2, host === "c" ? ["gpu"] : []);
        const issued: Array<{ op: WorkerOp; outcome: Outcome; cancelled: boolean }> = [];
        const contexts: Outcome[] = [];
        for (let step = 0; step < 400; step++) {
          const roll = random();
          if (roll < 0.3) {
            const request: Partial<WorkerRequest> = {};
            if (random() < 0.2) request.tags = ["gpu"];
            if (random() < 0.1) request.retries = 1;
            if (random() < 0.1) request.timeout = 200;
            issued.push({ ...t.issue(request), cancelled: false });
          }
          else if (roll < 0.35) contexts.push(t.context().outcome);
          else if (roll < 0.75) {
            const live = hosts.flatMap((h) => t.cluster.slavesOf(h)).filter((id) => t.port.slaves.get(id)!.ready);
            if (live.length > 0) t.cluster.answer(pick(live), 1 + Math.floor(random() * 3), () => (random() < 0.05 ? new Error("user error") : null));
          } else if (roll < 0.8) {
            const live = hosts.flatMap((h) => t.cluster.slavesOf(h)).filter((id) => t.port.slaves.get(id)!.ready);
            if (live.length > 0) t.cluster.exit(pick(live), random() < 0.5 ? "killed by SIGKILL" : "killed by SIGSEGV", random() < 0.5);
          } else if (roll < 0.82) {
            const host = pick(hosts);
            if (t.scheduler.hostNames("up").includes(host)) {
              t.cluster.agentLost(host);
            }
          } else if (roll < 0.85) {
            const open = issued.filter((i) => i.outcome.state === "pending");
            if (open.length > 0) {
              const victim = pick(open);
              victim.cancelled = true;
              t.scheduler.cancel(victim.op, new AbortError("cancelled"));
            }
          } else {
            t.clock.advance(Math.floor(random() * 300));
            for (const host of hosts) if (!t.scheduler.hostNames("up").includes(host)) t.scheduler.hostUp(host, 4);
            t.cluster.reap();
            t.cluster.readyAll();
          }
          t.clock.flush();
        }
        for (const host of hosts) if (!t.scheduler.hostNames("up").includes(host)) t.scheduler.hostUp(host, 4);
        t.cluster.readyAll();
        t.cluster.drive();
        t.checkInvariants();
        for (const { op, outcome, cancelled } of issued) {
          expect(outcome.state, `op ${op.id} settled`).to.not.equal("pending");
          if (outcome.state === "resolved") expect(outcome.value).to.equal(valueOf(op.id));
          else if (cancelled) expect(outcome.error).to.be.instanceOf(AbortError);
          else if (op.timeoutMs !== undefined && outcome.error instanceof TimeoutError) continue;
          else if (outcome.error?.message !== "user error") expect(outcome.error, `op ${op.id}: ${outcome.error?.message}`).to.be.instanceOf(PoisonOpError);
        }
        for (const outcome of contexts) expect(outcome.state).to.equal("resolved");
        expect(t.scheduler.isIdle).to.equal(true);
        expect(t.scheduler.fatalError).to.equal(null);
        // Each host is back to its slots: no catch-up slave left over, no slot left empty, no slot twice.
        for (const host of hosts) {
          const slots = t.cluster.slavesOf(host).map((id) => t.port.slaves.get(id)!.slot);
          expect(slots.sort(), `slots of ${host}'s slaves`).to.deep.equal([0, 1]);
        }
        expect(t.scheduler.stats().slaves).to.equal(6);
      });
    }
  });
});
