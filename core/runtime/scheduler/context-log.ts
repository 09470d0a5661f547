// The ordered log of context ops: what every slave must apply, in order, to reach a context
// version. Appended at issue, acknowledged per slave, replayed to new and catching-up slaves.
import type { ContextOp } from "./types.ts";

export class ContextLog {
  private readonly entries: ContextOp[] = [];
  /** Entries still waiting for an acknowledgement (or for their first slave). */
  private readonly unsettled = new Set<ContextOp>();

  /** Context ops issued so far: the version a worker op issued now must see. */
  get version(): number {
    return this.entries.length;
  }

  append(make: (seq: number) => ContextOp): ContextOp {
    const entry = make(this.entries.length + 1);
    this.entries.push(entry);
    this.unsettled.add(entry);
    return entry;
  }

  /** The entry that takes a slave from version `seq - 1` to `seq`. */
  at(seq: number): ContextOp | undefined {
    return this.entries[seq - 1];
  }

  /** Records that `slave` will apply the entry (its ack is then awaited). */
  sentTo(entry: ContextOp, slave: number): void {
    if (!entry.settled) entry.pending.add(slave);
  }

  /** A slave applied entry `seq` (with an error, when the op threw there). Returns the entry if it is now settled. */
  acknowledge(seq: number, slave: number, error: Error | null): ContextOp | null {
    const entry = this.entries[seq - 1];
    if (!entry || entry.settled) return null;
    entry.pending.delete(slave);
    entry.applied = true;
    if (error && !entry.error) entry.error = error;
    return this.settleIfDone(entry) ? entry : null;
  }

  /** A slave is gone: it no longer owes acknowledgements. Returns entries that are now settled. */
  forget(slave: number): ContextOp[] {
    const settled: ContextOp[] = [];
    for (const entry of this.unsettled) if (entry.pending.delete(slave) && this.settleIfDone(entry)) settled.push(entry);
    return settled;
  }

  get allSettled(): boolean {
    return this.unsettled.size === 0;
  }

  /** Settles every entry not settled yet with `error` (the run is ending). */
  rejectAll(error: Error): void {
    for (const entry of this.unsettled) {
      entry.settled = true;
      entry.settle.abandon(error);
    }
    this.unsettled.clear();
  }

  private settleIfDone(entry: ContextOp): boolean {
    if (entry.settled || !entry.applied || entry.pending.size > 0) return false;
    entry.settled = true;
    this.unsettled.delete(entry);
    if (entry.error) entry.settle.reject(entry.error);
    else entry.settle.resolve(undefined);
    return true;
  }
}
