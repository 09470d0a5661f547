// The slaves that take new worker ops, and which of them have room in their pipeline. Choosing a
// slave costs O(1) whatever the cluster's size: slaves with room wait on a list (one list for any
// op, one per set of tags ops asked for), and a slave that still has room after taking an op goes
// to the back, so ops rotate over the slaves.
import { hostHasTags, type SlaveState, type TagSet } from "./types.ts";

export interface PipelineOptions {
  /** Most ops queued at one slave (the pipeline hides the round trip for short ops). */
  maxDepth: number;
  /** A slave's pipeline holds about this much work (µs): long ops get depth 2, tiny ops up to maxDepth. */
  pipelineBudgetUs: number;
}

export class SlavePool {
  private readonly members = new Set<SlaveState>();
  /** The pool's pipeline depths added up: how many ops it can hold at once. */
  capacity = 0;
  /** Slaves with room, per tag set (null: any op). A slave listed may have filled up since: checked when taken. */
  private readonly withRoom = new Map<TagSet | null, Set<SlaveState>>([[null, new Set()]]);
  /** Pool slaves that had nothing in flight when last offered (checked when taken), for suspect ops. */
  private readonly idle = new Set<SlaveState>();

  constructor(private readonly options: PipelineOptions) {}

  get size(): number {
    return this.members.size;
  }

  has(slave: SlaveState): boolean {
    return slave.inPool;
  }

  [Symbol.iterator](): IterableIterator<SlaveState> {
    return this.members.values();
  }

  join(slave: SlaveState): void {
    if (slave.inPool) return;
    slave.inPool = true;
    this.members.add(slave);
    this.capacity += slave.depth;
    this.offer(slave);
  }

  leave(slave: SlaveState): void {
    if (!slave.inPool) return;
    slave.inPool = false;
    this.members.delete(slave);
    this.capacity -= slave.depth;
    for (const list of this.withRoom.values()) list.delete(slave);
    this.idle.delete(slave);
  }

  /** The slave may have room again (an op of it ended, or it stopped isolating): list it. */
  offer(slave: SlaveState): void {
    if (!this.hasRoom(slave)) return;
    for (const [tags, list] of this.withRoom) if (!list.has(slave) && hostHasTags(slave.host, tags)) list.add(slave);
    if (slave.inflight.size === 0) this.idle.add(slave);
  }

  /** A pool slave with room whose host has `tags`, next in rotation; null when none has room. */
  take(tags: TagSet | null): SlaveState | null {
    const list = this.listFor(tags);
    for (const slave of list) {
      list.delete(slave);
      if (!this.hasRoom(slave)) continue;
      // Only the taken slave moves to the back: ops rotate over the slaves with room.
      if (slave.inflight.size + 1 < slave.depth) list.add(slave);
      return slave;
    }
    return null;
  }

  /**
   * An idle pool slave (nothing in flight) whose host has `tags`. Only for suspect ops, which must
   * run alone, so that a second death is surely their own. Not a scan of the pool: while a suspect
   * op waits at the head of the queue every result tries this, and a busy pool has no idle slave.
   */
  takeIdle(tags: TagSet | null): SlaveState | null {
    for (const slave of this.idle) {
      if (slave.inflight.size > 0 || !this.hasRoom(slave)) this.idle.delete(slave); // offered again once idle
      else if (hostHasTags(slave.host, tags)) return slave;
    }
    return null;
  }

  /** Learns an op's service time on `slave` and sets its pipeline depth from it. */
  observe(slave: SlaveState, serviceUs: number): void {
    slave.serviceUs = slave.serviceUs === 0 ? serviceUs : slave.serviceUs * 0.8 + serviceUs * 0.2;
    const { maxDepth, pipelineBudgetUs } = this.options;
    const depth = Math.max(2, Math.min(maxDepth, 1 + Math.ceil(pipelineBudgetUs / Math.max(1, slave.serviceUs))));
    if (slave.inPool) this.capacity += depth - slave.depth;
    slave.depth = depth;
  }

  private hasRoom(slave: SlaveState): boolean {
    return slave.inPool && slave.status === "ready" && slave.isolating === null && slave.givingUp === null && slave.inflight.size < slave.depth;
  }

  private listFor(tags: TagSet | null): Set<SlaveState> {
    let list = this.withRoom.get(tags);
    if (!list) {
      // The first op asking for these tags: list every pool slave that qualifies (once per tag set).
      list = new Set();
      this.withRoom.set(tags, list);
      for (const slave of this.members) if (this.hasRoom(slave) && hostHasTags(slave.host, tags)) list.add(slave);
    }
    return list;
  }
}
