// Decides which slave runs which op, and when a context op may go out. The rules:
// - worker ops leave in issue order to pool slaves with room (SlavePool);
// - a context op at the head of the queue is broadcast to every pool slave only once every worker
//   op issued before it has been sent (the barrier); each slave's channel is FIFO, so every op
//   sees exactly the context ops issued before it;
// - an op suspected of killing a slave runs alone on an idle slave;
// - an op that asks for host tags no free slave has waits aside, so it does not hold up the
//   others; the barrier waits for it while a host with those tags is up or coming back;
// - an op is never sent to a host that cannot hold its input (`fits`) or refused it (a shared value
//   too large for it): that host joins the op's tag set as one it may not run on (TagSet.notOn), so
//   from then on the op waits aside, goes stale or catches up exactly as a tagged op does;
// - ops to re-run at an older context version (after a slave loss, a retry after later context
//   ops, or tags no host could serve in time) are stale: a slave replays the log to exactly their
//   version to run them (catch-up), then to the current version before joining the pool.
import type { ContextLog } from "./context-log.ts";
import type { OpQueue } from "./op-queue.ts";
import type { SlavePool } from "./slave-pool.ts";
import { OpState, hostHasTags, type ContextOp, type HostState, type SlaveState, type TagSet, type WorkerOp } from "./types.ts";

/** What the dispatcher asks of the scheduler. */
export interface DispatchActions {
  sendOp(op: WorkerOp, slave: SlaveState): void;
  /** `replay`: the slave catches up on an entry already broadcast (it is new or catching up). */
  sendContext(entry: ContextOp, slave: SlaveState, replay: boolean): void;
  /** Starts an extra slave on `host` to catch up (it stops once done). */
  spawnCatchUp(host: HostState): void;
  /** Stops a surplus slave that is done. */
  retire(slave: SlaveState): void;
  /**
   * Whether `op` may go to `slave` (its input fits the slave's host). When not, the host is refused
   * for the op: its tags now exclude that host, or it was rejected (settled) when no host is left.
   */
  fits(op: WorkerOp, slave: SlaveState): boolean;
  /** Hosts not set aside (up, or connecting). */
  hosts(): Iterable<HostState>;
  /** Slaves that may serve stale ops: at least every starting one (the scheduler gives just those, not a scan of all). */
  slaves(): Iterable<SlaveState>;
}

export class Dispatcher {
  /** Context ops broadcast to the pool so far. */
  broadcastVersion = 0;
  /** Tagged ops, at the broadcast version, that found no free slave with their tags. */
  private readonly waiting = new Map<TagSet, WorkerOp[]>();
  private waitingCount = 0;
  /** Ops to re-run at a context version older than the broadcast one. */
  private stale: WorkerOp[] = [];

  constructor(
    private readonly queue: OpQueue,
    private readonly pool: SlavePool,
    private readonly log: ContextLog,
    private readonly act: DispatchActions,
  ) {}

  /** Ops waiting aside or for a catch-up (not counting the queue). */
  get parked(): number {
    return this.waitingCount + this.stale.length;
  }

  /** Sends what can be sent now. */
  pump(): void {
    if (this.waitingCount > 0) this.serveWaiting();
    const queue = this.queue;
    for (let entry = queue.peek(); entry !== undefined; entry = queue.peek()) {
      if (entry.kind === "context") {
        if (this.waitingCount > 0 && !this.releaseBarrier()) return;
        queue.shift();
        this.broadcast(entry);
        continue;
      }
      if (entry.state === OpState.Settled) {
        queue.shift();
        continue;
      }
      const suspect = entry.deaths !== null;
      const slave = suspect ? this.pool.takeIdle(entry.tags) : this.pool.take(entry.tags);
      if (slave) {
        if (!this.act.fits(entry, slave)) {
          // The slave stays free for others; the op is tried again with its narrowed tags (or skipped, settled).
          this.pool.offer(slave);
          continue;
        }
        queue.shift();
        this.act.sendOp(entry, slave);
      } else if (entry.tags !== null && !suspect) {
        queue.shift();
        this.wait(entry);
      } else {
        return;
      }
    }
  }

  /**
   * Ops taken back from a slave: those at the broadcast version go back to the front of the queue
   * (in issue order), older ones wait for a catch-up.
   */
  requeue(ops: WorkerOp[]): void {
    const current: WorkerOp[] = [];
    for (const op of ops) {
      if (op.ctxVersion === this.broadcastVersion) current.push(op);
      else this.stale.push(op);
    }
    if (current.length > 0) this.queue.pushFront(current);
    if (current.length < ops.length) this.ensureCatchUp();
  }

  /** An op cancelled while parked: it no longer needs a slave. */
  forget(op: WorkerOp): void {
    const at = this.stale.indexOf(op);
    if (at >= 0) this.stale.splice(at, 1);
    // A waiting op is skipped when its turn comes (it is settled): no scan here.
  }

  /**
   * Brings a ready slave forward: first it serves stale ops it can take (replaying the log up to
   * exactly each one's version), then it replays to the broadcast version and joins the pool.
   */
  advance(slave: SlaveState): void {
    for (;;) {
      const target = this.oldestStaleVersion(slave.ctxSent, slave.host);
      if (target === null) break;
      slave.catchingUp = true;
      this.replay(slave, target);
      const keep: WorkerOp[] = [];
      for (const op of this.stale) {
        if (op.state === OpState.Settled) continue;
        // A suspect op runs alone, as in pump: only on a slave with nothing in flight, and nothing follows it there.
        const alone = slave.isolating === null && (op.deaths === null || slave.inflight.size === 0);
        if (op.ctxVersion === target && hostHasTags(slave.host, op.tags) && alone && this.act.fits(op, slave)) this.act.sendOp(op, slave);
        else keep.push(op);
      }
      const progress = keep.length < this.stale.length;
      this.stale = keep;
      if (!progress) break; // what is left at this version waits for another slave
    }
    this.replay(slave, this.broadcastVersion);
    slave.catchingUp = false;
    if (slave.surplus) {
      // It was started only to catch up: it stops once done (a free slot is restarted by its own rule).
      if (slave.inflight.size === 0) this.act.retire(slave);
    } else this.pool.join(slave);
    if (this.stale.length > 0) this.ensureCatchUp();
  }

  /** Makes sure some slave will serve the oldest stale ops: one starting, or catching up behind them. */
  ensureCatchUp(): void {
    const served = new Set<string>();
    for (const op of this.stale) {
      const want = `${op.ctxVersion}/${op.tags?.key ?? ""}`;
      if (served.has(want)) continue;
      served.add(want);
      if (this.someSlaveWillServe(op)) continue;
      let best: HostState | null = null;
      for (const host of this.act.hosts()) {
        if (host.status === "up" && hostHasTags(host, op.tags) && (!best || host.slaves.size < best.slaves.size)) best = host;
      }
      if (best) this.act.spawnCatchUp(best);
    }
  }

  /** Every op not sent yet (queued elsewhere than in the queue), removed: the run is ending. */
  drainParked(): WorkerOp[] {
    const ops = [...this.stale];
    for (const list of this.waiting.values()) ops.push(...list);
    this.stale = [];
    this.waiting.clear();
    this.waitingCount = 0;
    return ops;
  }

  /** Parked ops whose tags no host left (not set aside) has. */
  takeUnservable(): WorkerOp[] {
    const hosts = [...this.act.hosts()];
    const servable = (op: WorkerOp) => op.tags === null || hosts.some((host) => hostHasTags(host, op.tags));
    const out = this.stale.filter((op) => !servable(op));
    this.stale = this.stale.filter(servable);
    for (const [tags, list] of this.waiting) {
      if (list.length > 0 && !servable(list[0]!)) {
        out.push(...list);
        this.waitingCount -= list.length;
        this.waiting.delete(tags);
      }
    }
    return out;
  }

  private broadcast(entry: ContextOp): void {
    this.broadcastVersion = entry.seq;
    for (const slave of this.pool) {
      this.act.sendContext(entry, slave, false);
      slave.ctxSent = entry.seq;
      this.log.sentTo(entry, slave.id);
    }
  }

  private replay(slave: SlaveState, upTo: number): void {
    while (slave.ctxSent < upTo) {
      const entry = this.log.at(slave.ctxSent + 1)!;
      this.act.sendContext(entry, slave, true);
      slave.ctxSent++;
      this.log.sentTo(entry, slave.id);
    }
  }

  private wait(op: WorkerOp): void {
    const tags = op.tags!;
    let list = this.waiting.get(tags);
    if (!list) this.waiting.set(tags, (list = []));
    list.push(op);
    this.waitingCount++;
  }

  /** Sends waiting tagged ops to free slaves with their tags. */
  private serveWaiting(): void {
    const refused: WorkerOp[] = [];
    for (const [tags, list] of this.waiting) {
      let sent = 0;
      while (sent < list.length) {
        const op = list[sent]!;
        if (op.state === OpState.Settled) {
          sent++;
          continue;
        }
        const slave = this.pool.take(tags);
        if (!slave) break;
        sent++;
        if (this.act.fits(op, slave)) this.act.sendOp(op, slave);
        else {
          this.pool.offer(slave);
          if ((op.state as OpState) !== OpState.Settled) refused.push(op);
        }
      }
      if (sent > 0) {
        list.splice(0, sent);
        this.waitingCount -= sent;
      }
      if (list.length === 0) this.waiting.delete(tags);
    }
    // Refused by a slave's host: they wait again under their narrowed tags (still at the broadcast version).
    for (const op of refused) this.wait(op);
  }

  /**
   * A context op is next: it may leave only once the waiting tagged ops are sent. Those whose tags
   * a live or reconnecting host has hold the barrier; the others become stale and run later, at
   * their version, on a catch-up slave. Returns whether the barrier is open.
   */
  private releaseBarrier(): boolean {
    for (const [tags, list] of this.waiting) {
      const live = list.filter((op) => op.state !== OpState.Settled);
      if (live.length === 0) {
        this.waiting.delete(tags);
        this.waitingCount -= list.length;
        continue;
      }
      if (this.someHostServes(tags)) return false;
      this.stale.push(...live);
      this.waiting.delete(tags);
      this.waitingCount -= list.length;
    }
    return true;
  }

  /**
   * A host with these tags has slaves (up, or coming back). Tried on every pump while the barrier
   * holds, so it stops at the first such host instead of listing them all.
   */
  private someHostServes(tags: TagSet): boolean {
    for (const host of this.act.hosts()) if (host.slaves.size > 0 && hostHasTags(host, tags)) return true;
    return false;
  }

  private oldestStaleVersion(atLeast: number, host: HostState): number | null {
    let oldest: number | null = null;
    for (const op of this.stale) {
      if (op.ctxVersion >= atLeast && (oldest === null || op.ctxVersion < oldest) && hostHasTags(host, op.tags)) oldest = op.ctxVersion;
    }
    return oldest;
  }

  private someSlaveWillServe(op: WorkerOp): boolean {
    for (const slave of this.act.slaves()) {
      if (!hostHasTags(slave.host, op.tags)) continue;
      if (slave.status === "starting" || (slave.catchingUp && slave.ctxSent <= op.ctxVersion)) return true;
    }
    return false;
  }
}
