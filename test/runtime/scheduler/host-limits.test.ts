// Small hosts in the scheduler (issue 11, part 3): an op's input goes only to hosts that can hold it
// (their agent's hello says how much: largest buffer, free memory), a host that cannot hold a shared
// value an op reads refuses the op and it runs elsewhere (never there again), and an op no host can
// take fails with one placement error naming each host, the value and its size; the rest of the run
// goes on, every op settles once and runs at exactly the context version it was issued at.
import { expect } from "chai";
import { MntError } from "../../../core/errors.ts";
import { MEMORY_RESERVE_BYTES, hostLimitError, type HostRoom } from "../../../core/protocol/host-room.ts";
import { RUNTIME_DEFAULTS } from "../../../core/runtime/runtime.ts";
import { Scheduler, type SchedulerOptions, type WorkerRequest } from "../../../core/runtime/scheduler/scheduler.ts";
import type { WorkerOp } from "../../../core/runtime/scheduler/types.ts";
import { Cluster, FakeClock, Outcome, RecordingPort, valueOf } from "./fakes.ts";

/** As the runtime runs it (its defaults). */
const OPTIONS: SchedulerOptions = { ...RUNTIME_DEFAULTS, workerNames: ["sum"], contextNames: ["setGain"] };

/** A 32-bit host whose Node.js allocates at most 100 bytes in one buffer (a 1 GiB one, scaled down). */
const SMALL: HostRoom = { wordBits: 32, maxBufferBytes: 100, freeMemoryBytes: 2 ** 34 };
const BIG: HostRoom = { wordBits: 64, maxBufferBytes: 2 ** 32, freeMemoryBytes: 2 ** 34 };
/** Op messages are the input and a 12-byte prefix: a 150-byte input is a 162-byte message. */
const LARGE_INPUT = new Uint8Array(150);

function setup() {
  const clock = new FakeClock();
  const port = new RecordingPort();
  const scheduler = new Scheduler(OPTIONS, port, clock, { emit: () => {}, released: () => {}, describeInput: (op) => `<input ${op.id}>` });
  const cluster = new Cluster(scheduler, port, clock);
  const outcomes: Outcome[] = [];
  const t = {
    clock,
    port,
    scheduler,
    cluster,
    issue(request: Partial<WorkerRequest> = {}): { op: WorkerOp; outcome: Outcome } {
      const outcome = new Outcome();
      outcomes.push(outcome);
      const op = scheduler.issueWorker({ nameIndex: 0, payload: new Uint8Array(4), epoch: 0, ...request }, outcome);
      return { op, outcome };
    },
    context() {
      const outcome = new Outcome();
      outcomes.push(outcome);
      scheduler.issueContext(0, new Uint8Array(0), outcome);
      return outcome;
    },
    /** Adds a host (its agent connecting, not up). */
    add(name: string, slots = 2) {
      scheduler.addHost(name, slots, []);
    },
    /** Its agent says hello with `room` and its slaves get ready. */
    up(name: string, room: HostRoom) {
      scheduler.hostRoom(name, room);
      scheduler.hostUp(name, 4);
      cluster.readyAll();
    },
    /** Hosts each op was sent to, by op id. */
    hostsOf(op: WorkerOp): string[] {
      return port.of("op").filter((call) => call.op === op.id).map((call) => call.host);
    },
    checkInvariants() {
      for (const outcome of outcomes) expect(outcome.calls, "settled at most once").to.be.at.most(1);
      expect(cluster.versionViolations()).to.deep.equal([]);
    },
  };
  return t;
}

const placementError = (outcome: Outcome): MntError => {
  expect(outcome.state).to.equal("rejected");
  expect(outcome.error).to.be.instanceOf(MntError);
  expect((outcome.error as MntError).code).to.equal("placement");
  return outcome.error as MntError;
};

const HINT = " (run it with a host that can hold the value (64-bit, with more free memory), or make the value smaller)";

describe("scheduler: limits of small hosts", () => {
  describe("an op's input", () => {
    it("is never sent to a host that cannot hold it: it runs on one that can; small inputs use every host", () => {
      const t = setup();
      t.add("small");
      t.add("big");
      t.up("small", SMALL);
      t.up("big", BIG);
      const large = Array.from({ length: 6 }, () => t.issue({ payload: LARGE_INPUT }));
      const small = Array.from({ length: 12 }, () => t.issue());
      t.cluster.settleAll();
      for (const { op, outcome } of large) {
        expect(t.hostsOf(op)).to.deep.equal(["big"]);
        expect(outcome.value).to.equal(valueOf(op.id));
      }
      expect(new Set(small.flatMap(({ op }) => t.hostsOf(op)))).to.deep.equal(new Set(["small", "big"]));
      for (const { op, outcome } of small) expect(outcome.value).to.equal(valueOf(op.id));
      t.checkInvariants();
    });

    it("no host can hold it: rejected at issue with one error naming host, value and size; the other ops run", () => {
      const t = setup();
      t.add("h3");
      t.up("h3", SMALL);
      const large = t.issue({ payload: LARGE_INPUT });
      const small = t.issue();
      expect(placementError(large.outcome).message).to.equal(`op \`sum\` #1 can run on no host: its input is 162 bytes, larger than the 100 bytes a 32-bit Node.js can allocate on h3${HINT}`);
      t.cluster.settleAll();
      expect(t.hostsOf(large.op), "never sent").to.deep.equal([]);
      expect(small.outcome.value).to.equal(valueOf(small.op.id));
      t.checkInvariants();
    });

    it("its copies must fit in the free memory the host reported, less a reserve", () => {
      const t = setup();
      t.add("h4");
      t.up("h4", { wordBits: 64, maxBufferBytes: 2 ** 32, freeMemoryBytes: MEMORY_RESERVE_BYTES + 300 });
      const large = t.issue({ payload: LARGE_INPUT });
      expect(placementError(large.outcome).message).to.equal(
        `op \`sum\` #1 can run on no host: its input is 162 bytes × 2 copies = 324 bytes, larger than the 300 bytes of free memory there (64 MiB less 64 MiB kept for the processes) on h4${HINT}`,
      );
    });

    it("waits for a host not up yet; fails naming every host once the last one comes up too small", () => {
      const t = setup();
      t.add("a");
      t.add("b");
      t.up("a", SMALL);
      const large = t.issue({ payload: LARGE_INPUT });
      t.cluster.settleAll();
      expect(large.outcome.state, "b may hold it").to.equal("pending");
      t.up("b", { ...SMALL, maxBufferBytes: 120 });
      t.cluster.settleAll();
      expect(placementError(large.outcome).message).to.equal(
        `op \`sum\` #1 can run on no host: its input is 162 bytes, larger than the 100 bytes a 32-bit Node.js can allocate on a; its input is 162 bytes, larger than the 120 bytes a 32-bit Node.js can allocate on b${HINT}`,
      );
      expect(t.hostsOf(large.op)).to.deep.equal([]);
      t.checkInvariants();
    });

    it("issued before any host was up, it goes to the host that can hold it when a slave of a smaller one is free first", () => {
      const t = setup();
      t.add("small");
      t.add("big");
      const large = t.issue({ payload: LARGE_INPUT });
      const other = t.issue();
      t.up("small", SMALL);
      t.cluster.settleAll();
      expect(large.outcome.state).to.equal("pending");
      expect(other.outcome.value, "not held up by the large op").to.equal(valueOf(other.op.id));
      t.up("big", BIG);
      t.cluster.settleAll();
      expect(t.hostsOf(large.op)).to.deep.equal(["big"]);
      expect(large.outcome.value).to.equal(valueOf(large.op.id));
      t.checkInvariants();
    });

    it("waiting for the host that can hold it, it holds back a later context op, and runs before it", () => {
      const t = setup();
      t.add("small");
      t.add("big");
      t.up("small", SMALL);
      t.up("big", BIG);
      // Both of big's slaves are busy: the large op has to wait for one.
      const busy = [t.issue({ payload: LARGE_INPUT }), t.issue({ payload: LARGE_INPUT }), t.issue({ payload: LARGE_INPUT }), t.issue({ payload: LARGE_INPUT })];
      const large = t.issue({ payload: LARGE_INPUT });
      const gain = t.context();
      const after = t.issue({ payload: LARGE_INPUT });
      t.clock.flush();
      expect(t.hostsOf(large.op)).to.deep.equal([]);
      t.cluster.settleAll();
      t.cluster.drive();
      for (const { op, outcome } of [...busy, large, after]) {
        expect(t.hostsOf(op)).to.deep.equal(["big"]);
        expect(outcome.value).to.equal(valueOf(op.id));
      }
      expect(gain.state).to.equal("resolved");
      t.checkInvariants();
    });
  });

  describe("a shared value the op reads", () => {
    const refusal = () => hostLimitError(`shared value "lut" is 1.5 GiB, larger than the 1 GiB a 32-bit Node.js can allocate`);
    /** h3's slaves work through their channels; `reader` is answered with the refusal. */
    const h3Refuses = (t: ReturnType<typeof setup>, reader: WorkerOp) => {
      for (const slave of t.cluster.slavesOf("h3")) t.cluster.answer(slave, Infinity, (op) => (op.id === reader.id ? refusal() : null));
      t.clock.flush();
    };

    it("refused by a host (HostLimitError): the op runs again on another host, never on that one, and settles once", () => {
      const t = setup();
      t.add("h3");
      t.add("x64");
      t.up("h3", SMALL);
      const reader = t.issue();
      t.clock.flush();
      expect(t.hostsOf(reader.op)).to.deep.equal(["h3"]);
      h3Refuses(t, reader.op);
      expect(reader.outcome.state, "x64 may hold it: it waits").to.equal("pending");
      const next = t.issue();
      t.cluster.settleAll();
      expect(t.hostsOf(next.op), "h3 takes other ops").to.deep.equal(["h3"]);
      expect(t.hostsOf(reader.op), "not sent to h3 again").to.deep.equal(["h3"]);
      t.up("x64", BIG);
      t.cluster.settleAll();
      expect(t.hostsOf(reader.op)).to.deep.equal(["h3", "x64"]);
      expect(reader.outcome.value).to.equal(valueOf(reader.op.id));
      expect(reader.op.attempt).to.equal(1);
      t.checkInvariants();
    });

    it("refused by every host: fails with the error naming host, key and size; the other ops and later context ops go on", () => {
      const t = setup();
      t.add("h3");
      t.up("h3", SMALL);
      const reader = t.issue();
      const gain = t.context();
      const later = t.issue();
      t.clock.flush();
      h3Refuses(t, reader.op);
      t.cluster.settleAll();
      expect(placementError(reader.outcome).message).to.equal(`op \`sum\` #1 can run on no host: shared value "lut" is 1.5 GiB, larger than the 1 GiB a 32-bit Node.js can allocate on h3${HINT}`);
      expect(gain.state).to.equal("resolved");
      expect(later.outcome.value).to.equal(valueOf(later.op.id));
      expect(t.hostsOf(reader.op), "tried once").to.deep.equal(["h3"]);
      t.checkInvariants();
    });

    it("refused after a later context op went out: it re-runs at its own context version on a catch-up slave of another host", () => {
      const t = setup();
      t.add("h3");
      t.add("x64");
      t.up("h3", SMALL);
      const reader = t.issue();
      const gain = t.context();
      t.clock.flush();
      t.up("x64", BIG);
      h3Refuses(t, reader.op);
      t.cluster.drive();
      expect(gain.state).to.equal("resolved");
      expect(reader.outcome.value).to.equal(valueOf(reader.op.id));
      const rerun = t.port.of("op").filter((call) => call.op === reader.op.id);
      expect(rerun.map((call) => [call.host, call.ctxVersion])).to.deep.equal([
        ["h3", 0],
        ["x64", 0],
      ]);
      // A catch-up slave: x64's own two slots hold slaves 3 and 4 (h3's are 1 and 2).
      expect(rerun[1]!.slave).to.be.greaterThan(4);
      t.checkInvariants();
    });

    it("ops refused by the same host share one placement (one pool list): the others keep every host", () => {
      const t = setup();
      t.add("h3");
      t.add("x64");
      t.up("h3", SMALL);
      const readers = Array.from({ length: 4 }, () => t.issue());
      t.clock.flush();
      for (const reader of readers) expect(t.hostsOf(reader.op)).to.deep.equal(["h3"]);
      for (const slave of t.cluster.slavesOf("h3")) t.cluster.answer(slave, Infinity, () => refusal());
      t.clock.flush();
      expect(new Set(readers.map(({ op }) => op.tags)).size).to.equal(1);
      t.up("x64", BIG);
      t.cluster.settleAll();
      for (const { op, outcome } of readers) {
        expect(t.hostsOf(op)).to.deep.equal(["h3", "x64"]);
        expect(outcome.value).to.equal(valueOf(op.id));
      }
      t.checkInvariants();
    });
  });
});
