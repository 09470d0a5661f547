// The slaves that take new worker ops, and which of them have room in their pipeline. Choosing a
// slave costs O(1) whatever the cluster's size: slaves with room wait on a list (one list for any
// op, one per set of tags ops asked for), and a slave that still has room after taking an op goes
// to the back, so ops rotate over the slaves. The lists are queues, not Sets: taking the first
// element of a JS Set and adding it back at the end leaves deleted entries at its front, which
// every later iteration steps over until the table is rebuilt (Node 20: 0.3 µs per take with 160
// slaves with room, 15.6 µs with 32,000).
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
  private readonly withRoom = new Map<TagSet | null, Rotation>([[null, new Rotation()]]);
  /** Pool slaves that had nothing in flight when last offered (checked when taken), for suspect ops. */
  private readonly idle = new Rotation();

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
    for (let slave = list.shift(); slave !== undefined; slave = list.shift()) {
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
    const idle = this.idle;
    for (let left = idle.size; left > 0; left--) {
      const slave = idle.shift()!;
      if (slave.inflight.size > 0 || !this.hasRoom(slave)) continue; // offered again once idle
      idle.add(slave); // idle until it is given the op
      if (hostHasTags(slave.host, tags)) return slave;
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

  private listFor(tags: TagSet | null): Rotation {
    let list = this.withRoom.get(tags);
    if (!list) {
      // The first op asking for these tags: list every pool slave that qualifies (once per tag set).
      list = new Rotation();
      this.withRoom.set(tags, list);
      for (const slave of this.members) if (this.hasRoom(slave) && hostHasTags(slave.host, tags)) list.add(slave);
    }
    return list;
  }
}

/**
 * Slaves in the order they were listed: add at the back, take from the front, remove anywhere, each
 * O(1) amortized. A removed slave's entry stays in the queue and is skipped when it comes up (an
 * entry is live only while it carries the slave's current ticket).
 */
class Rotation {
  private queue: SlaveState[] = [];
  private tickets: number[] = [];
  private head = 0;
  private nextTicket = 0;
  /** Listed slaves and the ticket of their live entry. */
  private readonly live = new Map<SlaveState, number>();

  get size(): number {
    return this.live.size;
  }

  has(slave: SlaveState): boolean {
    return this.live.has(slave);
  }

  add(slave: SlaveState): void {
    if (this.live.has(slave)) return;
    const ticket = this.nextTicket++;
    this.live.set(slave, ticket);
    this.queue.push(slave);
    this.tickets.push(ticket);
  }

  delete(slave: SlaveState): void {
    this.live.delete(slave);
  }

  /** Unlists and returns the first listed slave. */
  shift(): SlaveState | undefined {
    while (this.head < this.queue.length) {
      const at = this.head++;
      const slave = this.queue[at]!;
      const ticket = this.tickets[at]!;
      this.queue[at] = undefined as never; // let it be collected
      if (this.live.get(slave) === ticket) {
        this.live.delete(slave);
        this.compact();
        return slave;
      }
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.tickets = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.tickets = this.tickets.slice(this.head);
      this.head = 0;
    }
  }
}
