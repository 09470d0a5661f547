// Simulated hosts and slaves behind the scheduler's SlavePort, in one process on the virtual clock.
// A host has a speed, a link latency (each way, FIFO: a message never overtakes an earlier one on
// the same link), a connect latency and a slave start latency. Its slaves run their ops (worker and
// context) strictly one at a time in arrival order, skip ops cancelled before their turn, and answer
// after the link latency. Faults: slave crashes (the op running is blamed), agent losses (its slaves
// are gone; it comes back after a while), link stalls, hosts that never come back. Small hosts (a
// 32-bit host, scaled down) say in their hello that they hold no large value: a large input must
// never reach them, and they answer an op reading a large shared value with a HostLimitError.
import { hostLimitError, isHostLimitError, type HostRoom } from "../../core/protocol/host-room.ts";
import type { SlavePort } from "../../core/runtime/scheduler/ports.ts";
import type { ContextOp, WorkerOp } from "../../core/runtime/scheduler/types.ts";
import { SimSlaveAbort, SimUserError, expectedValue } from "./invariants.ts";
import { SimProgram, type OpRec } from "./program.ts";
import { Random } from "./random.ts";
import type { Scenario } from "./scenario.ts";
import type { SimContext } from "./simulation.ts";

/**
 * What a small host can hold: one buffer of 18 bytes (a 32-bit host's 1 GiB, scaled down). An op's
 * message is its input behind a 12-byte prefix: the sim's 4-byte inputs fit, its large (8-byte) ones
 * do not. Memory is plentiful everywhere.
 */
export const SMALL_ROOM: HostRoom = { wordBits: 32, maxBufferBytes: 18, freeMemoryBytes: 2 ** 40 };
const ROOMY: HostRoom = { wordBits: 64, maxBufferBytes: 2 ** 32, freeMemoryBytes: 2 ** 40 };

/** A quantity that changes at events, integrated over virtual time (speed-weighted slot-ms). */
class Integral {
  rate = 0;
  private total = 0;
  private since = 0;

  change(now: number, delta: number): void {
    this.total += this.rate * (now - this.since);
    this.since = now;
    this.rate += delta;
  }

  /** The integral up to `now`, which must not be before the last change. */
  at(now: number): number {
    return this.total + this.rate * (now - this.since);
  }
}

/** One agent connection of a host: messages of an earlier one never reach a later one. */
interface Conn {
  /** The agent process runs (messages to it are delivered). */
  alive: boolean;
  /** The master has been told it ended, or dropped it (messages from it are dropped). */
  closedAtMaster: boolean;
}

export interface SimHost {
  readonly name: string;
  readonly speed: number;
  readonly slow: boolean;
  readonly linkMs: number;
  readonly connectMs: number;
  readonly startMs: number;
  readonly tags: readonly string[];
  /** It cannot hold the large values of some ops (SMALL_ROOM). */
  readonly small: boolean;
  /** Every connection fails. */
  neverUp: boolean;
  /** It went down for good. */
  deadForever: boolean;
  /** Connections fail until then (an agent loss). */
  downUntil: number;
  /** Set aside by the scheduler (port.disconnect). */
  disconnected: boolean;
  conn: Conn | null;
  stallUntil: number;
  toMasterAt: number;
  toAgentAt: number;
  readonly slaves: Map<number, SimSlave>;
  /** Slaves ready now (catch-up slaves too: they run ops beside the slots). */
  ready: number;
}

/** An op sent to a slave, as the master's side of the port saw it. */
interface Sent {
  rec: OpRec;
  op: WorkerOp;
  /** Which sending of the op this is (an op taken back and sent again has a newer one). */
  dispatch: number;
  cancelSent: boolean;
  answered: boolean;
}

type Item = { kind: "op"; sent: Sent } | { kind: "context"; entry: ContextOp };

interface SimSlave {
  readonly id: number;
  readonly host: SimHost;
  readonly conn: Conn | null;
  state: "requested" | "starting" | "ready" | "dead";
  readonly fifo: Item[];
  head: number;
  busy: boolean;
  running: Sent | null;
  runningSince: number;
  done: ReturnType<SimContext["clock"]["after"]> | null;
  /** Context ops applied. */
  ctxApplied: number;
  /** Cancels that arrived for ops not running (as the real op runner keeps them). */
  readonly cancelledHere: Set<number>;
  /** Ops sent and not answered yet, in the order sent (what the master's in-flight set holds). */
  readonly unanswered: Sent[];
  killRequested: boolean;
  /** A suspect op sent here to run alone, until answered. */
  alone: Sent | null;
}

export class SimCluster implements SlavePort {
  readonly hosts: SimHost[] = [];
  private readonly byName = new Map<string, SimHost>();
  private readonly slaves = new Map<number, SimSlave>();
  private readonly service: Random;
  private readonly faults: Random;
  /** No faults any more (main is done). */
  quiet = false;
  /** Speed-weighted slaves up (ready) and busy running an op. */
  readonly capacity = new Integral();
  readonly busy = new Integral();
  /** When the scheduler last sent an op from its queue to a pool slave, and from a catch-up slave. */
  lastSendAt = 0;
  lastCatchUpSendAt = 0;
  /** Ops sent to a slave catching up (re-runs at an older context version). */
  catchUpSends = 0;
  /** When the last result from a fast and from a slow host reached the master. */
  lastResultFast = 0;
  lastResultSlow = 0;
  readonly counters = { crashes: 0, agentLosses: 0, stalls: 0, kills: 0, runs: 0, skipped: 0, aborted: 0 };

  constructor(
    private readonly sim: SimContext,
    scenario: Scenario,
  ) {
    const r = new Random(scenario.seed, 2);
    this.service = new Random(scenario.seed, 3);
    this.faults = new Random(scenario.seed, 6);
    const digits = String(scenario.hosts).length;
    const { gpu, ssd } = scenario.tagFractions;
    // A stream of its own: the other draws of a seed stay what they were.
    const sizes = new Random(scenario.seed, 10);
    for (let i = 0; i < scenario.hosts; i++) {
      const slow = r.chance(scenario.slowFraction);
      const tags: string[] = [];
      if (r.chance(gpu)) tags.push("gpu");
      if (r.chance(ssd)) tags.push("ssd");
      const host: SimHost = {
        name: `h${String(i).padStart(digits, "0")}`,
        speed: r.uniform(scenario.speed[0], scenario.speed[1]) / (slow ? scenario.slowFactor : 1),
        slow,
        linkMs: r.uniform(scenario.linkMs[0], scenario.linkMs[1]),
        connectMs: r.uniform(scenario.connectMs[0], scenario.connectMs[1]),
        startMs: r.uniform(scenario.startMs[0], scenario.startMs[1]),
        tags,
        small: sizes.chance(scenario.smallHosts ?? 0),
        neverUp: false,
        deadForever: false,
        downUntil: 0,
        disconnected: false,
        conn: null,
        stallUntil: 0,
        toMasterAt: 0,
        toAgentAt: 0,
        slaves: new Map(),
        ready: 0,
      };
      this.hosts.push(host);
      this.byName.set(host.name, host);
    }
  }

  host(name: string): SimHost {
    return this.byName.get(name)!;
  }

  // ---------------------------------------------------------------- faults

  /** Plans the scenario's faults at random times within `horizonMs`. */
  planFaults(horizonMs: number): void {
    const plan = this.sim.scenario.faults;
    if (!plan) return;
    const r = this.faults;
    const slots = this.sim.scenario.slots;
    const count = (fraction: number, of: number) => {
      const exact = fraction * of;
      return Math.floor(exact) + (r.chance(exact - Math.floor(exact)) ? 1 : 0);
    };
    for (const host of this.hosts) {
      if (r.chance(plan.neverUp)) host.neverUp = true;
      else if (r.chance(plan.diesForever)) this.sim.clock.at(r.uniform(0, horizonMs), () => this.agentLost(host, Infinity));
    }
    for (let i = count(plan.slaveCrashes, this.hosts.length * slots); i > 0; i--) this.sim.clock.at(r.uniform(0, horizonMs), () => this.crashSome());
    for (let i = count(plan.agentLosses, this.hosts.length); i > 0; i--) {
      this.sim.clock.at(r.uniform(0, horizonMs), () => this.agentLost(r.pick(this.hosts), r.uniform(plan.downMs[0], plan.downMs[1])));
    }
    for (let i = count(plan.stalls, this.hosts.length); i > 0; i--) {
      this.sim.clock.at(r.uniform(0, horizonMs), () => {
        if (this.quiet) return;
        const host = r.pick(this.hosts);
        host.stallUntil = Math.max(host.stallUntil, this.sim.clock.now() + r.uniform(plan.stallMs[0], plan.stallMs[1]));
        this.counters.stalls++;
      });
    }
  }

  /** A random live slave crashes (SIGSEGV): the op it runs is blamed. */
  private crashSome(): void {
    if (this.quiet) return;
    const host = this.faults.pick(this.hosts);
    if (host.slaves.size === 0) return;
    const at = this.faults.int(0, host.slaves.size - 1);
    let i = 0;
    for (const slave of host.slaves.values()) {
      if (i++ === at) return this.die(slave, "killed by SIGSEGV; last stderr: simulated crash", false);
    }
  }

  /** The host's agent goes away with its slaves; connections fail for `downMs` (Infinity: for good). */
  private agentLost(host: SimHost, downMs: number): void {
    if (this.quiet) return;
    const now = this.sim.clock.now();
    if (downMs === Infinity) host.deadForever = true;
    host.downUntil = Math.max(host.downUntil, now + downMs);
    const conn = host.conn;
    if (!conn) return;
    this.counters.agentLosses++;
    conn.alive = false;
    host.conn = null;
    for (const slave of [...host.slaves.values()]) this.end(slave);
    this.toMaster(host, conn, () => {
      conn.closedAtMaster = true;
      this.sim.meter.enter();
      this.sim.scheduler.hostFailed(host.name, "the agent's connection closed", false);
      this.sim.meter.exit();
    });
  }

  // ---------------------------------------------------------------- links

  private toMaster(host: SimHost, conn: Conn, action: () => void): void {
    const clock = this.sim.clock;
    const t = Math.max(clock.now(), host.stallUntil, host.toMasterAt - host.linkMs) + host.linkMs;
    host.toMasterAt = t;
    clock.at(t, () => {
      if (!conn.closedAtMaster) action();
    });
  }

  private toAgent(host: SimHost, conn: Conn | null, action: () => void): void {
    if (!conn || !conn.alive) return;
    const clock = this.sim.clock;
    const t = Math.max(clock.now(), host.stallUntil, host.toAgentAt - host.linkMs) + host.linkMs;
    host.toAgentAt = t;
    clock.at(t, () => {
      if (conn.alive) action();
    });
  }

  // ---------------------------------------------------------------- SlavePort

  connect(name: string): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.portCalls++;
    const host = this.host(name);
    if (host.conn?.alive) sim.violations.add(`${name}: the scheduler asked to connect while its agent was connected`);
    sim.clock.after(host.connectMs, () => {
      const now = sim.clock.now();
      sim.meter.enter();
      if (!host.neverUp && !host.deadForever && !host.disconnected && now >= host.downUntil) {
        host.conn = { alive: true, closedAtMaster: false };
        host.toMasterAt = host.toAgentAt = now;
        sim.scheduler.hostRoom(name, host.small ? SMALL_ROOM : ROOMY);
        sim.scheduler.hostUp(name, sim.scenario.slots);
      } else {
        sim.scheduler.hostFailed(name, "cannot start the agent: connection refused", false);
      }
      sim.meter.exit();
    });
    sim.meter.resume();
  }

  disconnect(name: string): void {
    this.sim.meter.pause();
    this.sim.meter.portCalls++;
    const host = this.host(name);
    host.disconnected = true;
    const conn = host.conn;
    if (conn) {
      conn.alive = false;
      conn.closedAtMaster = true;
      host.conn = null;
      for (const slave of [...host.slaves.values()]) this.end(slave);
    }
    this.sim.meter.resume();
  }

  spawn(name: string, id: number, _slot: number): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.portCalls++;
    const host = this.host(name);
    const slave: SimSlave = {
      id,
      host,
      conn: host.conn,
      state: "requested",
      fifo: [],
      head: 0,
      busy: false,
      running: null,
      runningSince: 0,
      done: null,
      ctxApplied: 0,
      cancelledHere: new Set(),
      unanswered: [],
      killRequested: false,
      alone: null,
    };
    if (this.slaves.has(id)) sim.violations.add(`slave id ${id} spawned twice`);
    this.slaves.set(id, slave);
    this.toAgent(host, slave.conn, () => {
      slave.state = "starting";
      host.slaves.set(id, slave);
      sim.clock.after(host.startMs * this.service.uniform(0.8, 1.25), () => {
        if (slave.state !== "starting") return;
        slave.state = "ready";
        this.capacityChange(host, +1);
        this.toMaster(host, slave.conn!, () => {
          sim.meter.enter();
          sim.scheduler.slaveReady(id, 10_000 + id);
          sim.meter.exit();
        });
        this.runNext(slave);
      });
    });
    sim.meter.resume();
  }

  sendOp(name: string, id: number, op: WorkerOp): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.portCalls++;
    const slave = this.slaves.get(id);
    const rec = sim.program.recOf(op);
    if (!rec) sim.violations.add(`op ${op.id} sent to slave ${id} on ${name}, but it is settled`);
    else if (!slave) sim.violations.add(`op ${op.id} sent to slave ${id} on ${name}, which was never spawned`);
    else {
      if (SimProgram.indexOf(op) !== rec.index) sim.violations.add(`op ${op.id} carries the input of op #${SimProgram.indexOf(op)}, not #${rec.index}`);
      const sent: Sent = { rec, op, dispatch: ++rec.dispatches, cancelSent: false, answered: false };
      // Invariant 5: an op charged with a death runs alone, and nothing joins it.
      if (slave.alone && !slave.alone.answered && slave.alone.dispatch === slave.alone.rec.dispatches) sim.violations.add(`op #${rec.index} sent to slave ${id} while suspect op #${slave.alone.rec.index} runs there alone`);
      if (rec.charges > 0) {
        if (this.busyWithOthers(slave)) sim.violations.add(`suspect op #${rec.index} (charged ${rec.charges} deaths) sent to slave ${id}, which has other ops`);
        slave.alone = sent;
      }
      slave.unanswered.push(sent);
      if (op.slave?.catchingUp) {
        this.lastCatchUpSendAt = sim.clock.now();
        this.catchUpSends++;
      } else this.lastSendAt = sim.clock.now();
      this.toAgent(slave.host, slave.conn, () => this.arrive(slave, { kind: "op", sent }));
    }
    sim.meter.resume();
  }

  sendContext(_name: string, id: number, entry: ContextOp): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.portCalls++;
    const slave = this.slaves.get(id);
    if (!slave) sim.violations.add(`context op ${entry.seq} sent to slave ${id}, which was never spawned`);
    else this.toAgent(slave.host, slave.conn, () => this.arrive(slave, { kind: "context", entry }));
    sim.meter.resume();
  }

  cancel(_name: string, id: number, opId: number): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.portCalls++;
    const slave = this.slaves.get(id);
    if (slave) {
      for (let i = slave.unanswered.length - 1; i >= 0; i--) {
        const sent = slave.unanswered[i]!;
        if (sent.op.id === opId) {
          sent.cancelSent = true;
          break;
        }
      }
      this.toAgent(slave.host, slave.conn, () => {
        if (slave.state === "dead") return;
        const running = slave.running;
        if (running && running.op.id === opId) {
          if (running.rec.hang) return; // a synchronous loop: it cannot see op.signal
          this.counters.aborted++;
          sim.clock.cancel(slave.done);
          this.answer(slave, running, (sim.clock.now() - slave.runningSince) * 1000, new SimSlaveAbort(opId));
          this.setBusy(slave, false);
          slave.running = null;
          this.runNext(slave);
        } else slave.cancelledHere.add(opId);
      });
    }
    sim.meter.resume();
  }

  kill(_name: string, id: number): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.portCalls++;
    const slave = this.slaves.get(id);
    if (slave) {
      slave.killRequested = true;
      this.toAgent(slave.host, slave.conn, () => {
        if (slave.state === "dead" || slave.state === "requested") return;
        this.counters.kills++;
        this.die(slave, "killed by SIGKILL", true);
      });
    }
    sim.meter.resume();
  }

  // ---------------------------------------------------------------- slaves

  private arrive(slave: SimSlave, item: Item): void {
    if (slave.state === "dead") return;
    slave.fifo.push(item);
    if (slave.state === "ready" && !slave.busy) this.runNext(slave);
  }

  /** Starts the next op in arrival order; cancelled ones are answered without running. */
  private runNext(slave: SimSlave): void {
    while (!slave.busy && slave.state === "ready" && slave.head < slave.fifo.length) {
      const item = slave.fifo[slave.head]!;
      slave.fifo[slave.head++] = undefined as never;
      if (item.kind === "context") {
        this.startContext(slave, item.entry);
        break;
      }
      const { sent } = item;
      if (slave.cancelledHere.delete(sent.op.id)) {
        this.counters.skipped++;
        this.answer(slave, sent, 0, new SimSlaveAbort(sent.op.id));
        continue;
      }
      this.startOp(slave, sent);
    }
    if (slave.head === slave.fifo.length) {
      slave.fifo.length = 0;
      slave.head = 0;
    }
  }

  private startContext(slave: SimSlave, entry: ContextOp): void {
    const { sim } = this;
    const rec = sim.program.contexts[entry.seq - 1];
    // Invariant 3: strictly in log order.
    if (entry.seq !== slave.ctxApplied + 1) sim.violations.add(`slave ${slave.id} on ${slave.host.name} got context op ${entry.seq} after applying ${slave.ctxApplied}`);
    if (!rec || rec.entry !== entry) sim.violations.add(`slave ${slave.id} got context op ${entry.seq}, which main did not issue as such`);
    this.setBusy(slave, true);
    slave.done = sim.clock.after(sim.scenario.contextMs / slave.host.speed, () => {
      slave.done = null;
      this.setBusy(slave, false);
      slave.ctxApplied = entry.seq;
      if (rec) rec.applied++;
      const error = rec?.error ?? null;
      this.toMaster(slave.host, slave.conn!, () => {
        sim.meter.enter();
        sim.scheduler.contextAck(slave.id, entry.seq, error);
        sim.meter.exit();
      });
      this.runNext(slave);
    });
  }

  private startOp(slave: SimSlave, sent: Sent): void {
    const { sim } = this;
    const { rec, op } = sent;
    const host = slave.host;
    const where = `slave ${slave.id} on ${host.name}`;
    // Invariant 3: exactly the context ops issued before it.
    if (slave.ctxApplied !== rec.expectedCtx) sim.violations.add(`op #${rec.index} ran on ${where} at context version ${slave.ctxApplied}; main issued ${rec.expectedCtx} context ops before it`);
    // Invariant 5: placement.
    if (rec.tags) for (const tag of rec.tags) if (!host.tags.includes(tag)) sim.violations.add(`op #${rec.index} asks for ${rec.tags.join("+")} and ran on ${host.name} (tags ${host.tags.join("+") || "none"})`);
    // Invariant 5: a large input never reaches a host that cannot hold it; a host that refused an op is not asked again.
    if (host.small && rec.largeInput) sim.violations.add(`op #${rec.index} has a large input and was sent to ${host.name}, a small host`);
    if (rec.refusedBy?.has(host.name)) sim.violations.add(`op #${rec.index} was sent again to ${host.name}, which had refused it`);
    // Invariant 4: what it reads is still there.
    if (!rec.settled) sim.program.checkSharedReadable(rec, where);
    rec.runs++;
    this.counters.runs++;
    this.setBusy(slave, true);
    slave.running = sent;
    slave.runningSince = sim.clock.now();
    if (host.small && rec.largeShared) {
      // It reads a shared value its host cannot hold: the agent refuses it before fetching, the op answers that at once.
      this.setBusy(slave, false);
      slave.running = null;
      this.answer(slave, sent, 1, hostLimitError(`shared value "large" is 1 GiB, larger than the 1 GiB a 32-bit Node.js can allocate`));
      return; // runNext goes on with the next op
    }
    if (rec.hang) return; // runs until the slave is killed
    const ms = (rec.size / host.speed) * this.service.lognormal(1, 0.1);
    const throws = rec.throwsSeen < rec.failTimes;
    slave.done = sim.clock.after(ms, () => {
      slave.done = null;
      if (rec.poison) return this.die(slave, "killed by SIGSEGV; last stderr: poison input", false);
      this.setBusy(slave, false);
      slave.running = null;
      this.answer(slave, sent, ms * 1000, throws ? new SimUserError(rec.index, rec.runs) : null);
      this.runNext(slave);
    });
  }

  /** The slave answers an op (a value, or `error`); the master hears it after the link latency. */
  private answer(slave: SimSlave, sent: Sent, serviceUs: number, error: Error | null): void {
    const { sim } = this;
    sent.answered = true;
    const list = slave.unanswered;
    const at = list.indexOf(sent);
    if (at === 0) list.shift();
    else if (at > 0) list.splice(at, 1);
    const { rec, op } = sent;
    const read = error
      ? () => {
          if (error instanceof SimUserError) rec.throwsSeen++;
          // The scheduler took in the refusal (it reads only answers it still wants): never that host again.
          if (isHostLimitError(error)) (rec.refusedBy ??= new Set()).add(slave.host.name);
          throw error;
        }
      : () => ({ index: rec.index, value: expectedValue(rec.index) });
    this.toMaster(slave.host, slave.conn!, () => {
      if (!rec.settled) {
        if (slave.host.slow) this.lastResultSlow = sim.clock.now();
        else this.lastResultFast = sim.clock.now();
      }
      sim.meter.enter();
      sim.scheduler.result(slave.id, op.id, serviceUs, error !== null, read);
      sim.meter.exit();
    });
  }

  /** The slave process ends (crash, or killed); its agent tells the master. */
  private die(slave: SimSlave, how: string, fromOutside: boolean): void {
    if (slave.state === "dead") return;
    const { sim } = this;
    if (!fromOutside) this.counters.crashes++;
    this.end(slave);
    this.toMaster(slave.host, slave.conn!, () => {
      // The op to blame: the first one sent here and not answered (running, or next in line),
      // unless cancelled there or taken back since (sent again, or no longer placed here).
      if (!fromOutside && !slave.killRequested) {
        const blamed = slave.unanswered.find((sent) => !sent.cancelSent && sent.dispatch === sent.rec.dispatches && sent.op.slave?.id === slave.id);
        if (blamed && !blamed.rec.settled) blamed.rec.charges++;
      }
      sim.meter.enter();
      sim.scheduler.slaveExited(slave.id, how, fromOutside);
      sim.meter.exit();
      this.slaves.delete(slave.id);
    });
  }

  /** The slave is gone (no message: its agent died, or the master dropped the host). */
  private end(slave: SimSlave): void {
    if (slave.state === "ready") this.capacityChange(slave.host, -1);
    slave.state = "dead";
    this.sim.clock.cancel(slave.done);
    slave.done = null;
    this.setBusy(slave, false);
    slave.running = null;
    slave.fifo.length = 0;
    slave.head = 0;
    slave.host.slaves.delete(slave.id);
  }

  /** Ops the master counts as on this slave (sent, not answered, not taken back). */
  private busyWithOthers(slave: SimSlave): boolean {
    return slave.unanswered.some((sent) => sent.dispatch === sent.rec.dispatches && sent.op.slave?.id === slave.id);
  }

  // ---------------------------------------------------------------- accounting and checks

  private capacityChange(host: SimHost, delta: number): void {
    host.ready += delta;
    this.capacity.change(this.sim.clock.now(), delta * host.speed);
  }

  private setBusy(slave: SimSlave, busy: boolean): void {
    if (slave.busy === busy) return;
    slave.busy = busy;
    this.busy.change(this.sim.clock.now(), busy ? slave.host.speed : -slave.host.speed);
  }

  /** No host that could still take ops with these tags: each one is set aside or gone for good. */
  tagsUnservable(tags: readonly string[]): boolean {
    return this.hosts.every((host) => !tags.every((tag) => host.tags.includes(tag)) || host.disconnected || host.neverUp || host.deadForever);
  }

  /** No host that could still take this op's large values and its tags: each is small, untagged, set aside or gone. */
  roomUnservable(rec: OpRec): boolean {
    return this.hosts.every((host) => host.small || !(rec.tags ?? []).every((tag) => host.tags.includes(tag)) || host.disconnected || host.neverUp || host.deadForever);
  }

  /** Every host is set aside or gone for good: a fatal "no host left" is then the right end. */
  get allHostsGone(): boolean {
    return this.hosts.every((host) => host.disconnected || host.neverUp || host.deadForever);
  }

  get hostsSetAside(): number {
    return this.hosts.filter((host) => host.disconnected).length;
  }

  get hostsSetAsideHealthy(): number {
    return this.hosts.filter((host) => host.disconnected && !host.neverUp && !host.deadForever).length;
  }
}
