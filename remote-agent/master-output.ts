// Frames to the master, batched: what the agent sends in one tick leaves in one write (the agent
// sits on the hot path of every op). flush() sends at once, for answers that must not wait.

export class MasterOutput {
  private queued: Buffer[] = [];
  private scheduled = false;

  constructor(
    private readonly write: (bytes: Buffer) => void,
    private readonly schedule: (callback: () => void) => void = setImmediate,
  ) {}

  /** Queues a whole frame (or frames); it leaves with the next flush, at the latest in the next tick. */
  send(frame: Buffer): void {
    this.queued.push(frame);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.queued.length === 0) return;
    const bytes = this.queued.length === 1 ? this.queued[0]! : Buffer.concat(this.queued);
    this.queued = [];
    this.write(bytes);
  };
}
