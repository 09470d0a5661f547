// Worker and context ops waiting to be sent, in issue order. Ops taken back from a lost slave go
// to the front, so they run before anything issued after them.
import type { QueueEntry } from "./types.ts";

export class OpQueue {
  private entries: QueueEntry[] = [];
  private head = 0;

  get length(): number {
    return this.entries.length - this.head;
  }

  peek(): QueueEntry | undefined {
    return this.entries[this.head];
  }

  shift(): QueueEntry | undefined {
    const entry = this.entries[this.head];
    if (entry === undefined) return undefined;
    this.entries[this.head++] = undefined as never; // let it be collected once settled
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  push(entry: QueueEntry): void {
    this.entries.push(entry);
  }

  /** Puts entries back at the front, keeping their order (they were issued before everything queued). */
  pushFront(entries: readonly QueueEntry[]): void {
    if (entries.length <= this.head) {
      this.head -= entries.length;
      for (let i = 0; i < entries.length; i++) this.entries[this.head + i] = entries[i]!;
    } else {
      this.entries = [...entries, ...this.entries.slice(this.head)];
      this.head = 0;
    }
  }

  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let i = this.head; i < this.entries.length; i++) yield this.entries[i]!;
  }

  /** Empties the queue, returning what was in it. */
  drain(): QueueEntry[] {
    const rest = this.entries.slice(this.head);
    this.entries = [];
    this.head = 0;
    return rest;
  }
}
