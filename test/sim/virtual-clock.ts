// A virtual clock for the simulator: one event queue ordered by time, then by insertion order, so a
// run is a pure function of its seed. `soon` actions run, in the order they were asked for, before
// the next timed event (as microtasks run before the next timer). The scheduler sees it as its
// Clock; the simulated world schedules its own events with `at`/`after`, which the meter does not
// count as the scheduler's.
import type { Clock } from "../../core/runtime/scheduler/ports.ts";
import type { Meter } from "./meter.ts";

interface Timed {
  time: number;
  seq: number;
  action: (() => void) | null; // null: cleared
  /** Set through the Clock interface: the scheduler's own work, metered as such. */
  scheduler: boolean;
}

export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly heap: Timed[] = [];
  private soonQueue: Array<() => void> = [];
  private soonOwner: boolean[] = [];
  private soonHead = 0;
  /** Timed events run so far (for the work count). */
  eventsRun = 0;

  constructor(private readonly meter: Meter) {}

  // ---------------------------------------------------------------- Clock (the scheduler's)

  now(): number {
    return this.time;
  }

  setTimer(ms: number, action: () => void): unknown {
    this.meter.clockCalls++;
    return this.push(this.time + Math.max(0, ms), action, true);
  }

  clearTimer(handle: unknown): void {
    this.meter.clockCalls++;
    if (handle) (handle as Timed).action = null;
  }

  soon(action: () => void): void {
    this.meter.clockCalls++;
    this.soonQueue.push(action);
    this.soonOwner.push(true);
  }

  // ---------------------------------------------------------------- the simulated world's

  /** Runs `action` at virtual time `time` (not before now). */
  at(time: number, action: () => void): Timed {
    return this.push(Math.max(time, this.time), action, false);
  }

  after(ms: number, action: () => void): Timed {
    return this.push(this.time + Math.max(0, ms), action, false);
  }

  cancel(event: Timed | null): void {
    if (event) event.action = null;
  }

  /** Runs `action` after the current event, with the scheduler's soon actions, in order. */
  defer(action: () => void): void {
    this.soonQueue.push(action);
    this.soonOwner.push(false);
  }

  /** Timed events pending (including cleared ones not yet popped). */
  get pending(): number {
    return this.heap.length + this.soonQueue.length - this.soonHead;
  }

  /**
   * Runs events until `done()` holds, the queue is empty, or virtual time would pass `limit`.
   * Returns why it stopped.
   */
  run(done: () => boolean, limit: number): "done" | "empty" | "limit" {
    const meter = this.meter;
    for (;;) {
      this.drainSoon();
      if (done()) return "done";
      const next = this.pop();
      if (!next) return "empty";
      if (next.time > limit) {
        this.pushBack(next);
        return "limit";
      }
      this.time = next.time;
      const action = next.action!;
      this.eventsRun++;
      if (next.scheduler) {
        meter.enter();
        action();
        meter.exit();
      } else action();
    }
  }

  private drainSoon(): void {
    const meter = this.meter;
    while (this.soonHead < this.soonQueue.length) {
      const i = this.soonHead++;
      const action = this.soonQueue[i]!;
      const mine = this.soonOwner[i]!;
      if (mine) {
        meter.enter();
        action();
        meter.exit();
      } else action();
    }
    this.soonQueue = [];
    this.soonOwner = [];
    this.soonHead = 0;
  }

  private push(time: number, action: () => void, scheduler: boolean): Timed {
    const event: Timed = { time, seq: this.seq++, action, scheduler };
    this.pushBack(event);
    return event;
  }

  private pushBack(event: Timed): void {
    // Keeps its place in the order (same time and sequence number).
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = event;
  }

  /** The earliest live event, or null. */
  private pop(): Timed | null {
    const heap = this.heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        let i = 0;
        const n = heap.length;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const child = r < n && before(heap[r]!, heap[l]!) ? r : l;
          if (!before(heap[child]!, last)) break;
          heap[i] = heap[child]!;
          i = child;
        }
        heap[i] = last;
      }
      if (top.action !== null) return top;
    }
    return null;
  }
}

function before(a: Timed, b: Timed): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
