// What a slave prints, forwarded to the master as Log frames (`[host:slot] line` there), one frame per
// batch of whole lines; the last lines of its stderr are kept for its exit report.
import { FLAG_STDERR, FrameType, encodeMessage } from "../core/protocol/frame.ts";
import { LineSplitter } from "../core/protocol/line-splitter.ts";

/** Lines of stderr kept for the SlaveExit report: the clue when a slave dies. */
export const STDERR_TAIL_LINES = 20;

export class SlaveOutput {
  readonly stdout: LineSplitter;
  readonly stderr: LineSplitter;
  private tail: string[] = [];

  constructor(slaveId: number, slot: number, toMaster: (frame: Buffer) => void) {
    const forward = (stream: number) => (lines: string[]) => {
      if (stream === FLAG_STDERR) {
        this.tail.push(...lines);
        if (this.tail.length > STDERR_TAIL_LINES) this.tail.splice(0, this.tail.length - STDERR_TAIL_LINES);
      }
      for (const frame of encodeMessage(FrameType.Log, slaveId, slot, Buffer.from(lines.join("\n")), stream)) toMaster(frame);
    };
    this.stdout = new LineSplitter(forward(0));
    this.stderr = new LineSplitter(forward(FLAG_STDERR));
  }

  /** The last lines of stderr, oldest first. */
  get stderrTail(): string[] {
    return this.tail;
  }

  /** Both streams ended: partial last lines go out. */
  end(): void {
    this.stdout.end();
    this.stderr.end();
  }
}
