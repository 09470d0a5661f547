// Which worker op a slave was running when it died. The slave answers ops in batches (one write
// per read, not per op), so the master's oldest unanswered op may be one the slave had finished:
// charging the death to it would blame an innocent op. Instead the slave records the op it starts
// in a small file the agent gave it (fd 5, unlinked at once: nothing is left behind), with one
// pwrite per op (no reader is woken), and the agent reads it after the slave's exit.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** The slave's fd for the record (after fd 3, frames, and fd 4, the lifeline). */
export const RUNNING_OP_FD = 5;

/** Set in a slave's environment when its fd 5 is the record (and only then is it written). */
export const RUNNING_OP_ENV = "MNT_RUNNING_OP_FD";

/** The agent's side: a fresh, already unlinked file for one slave; read once the slave is gone. */
export class RunningOpRecord {
  /** null when no file could be made (a read-only temp folder): the master then blames the oldest unanswered op. */
  readonly fd: number | null;

  constructor() {
    let fd: number | null = null;
    try {
      const file = path.join(os.tmpdir(), `mnt-running-op-${process.pid}-${Math.random().toString(36).slice(2)}`);
      fd = openSync(file, "w+", 0o600);
      unlinkSync(file);
    } catch {
      if (fd !== null) closeSync(fd);
      fd = null;
    }
    this.fd = fd;
  }

  /** The worker op the slave was running when it ended, null (none, or a context op), or undefined (no record). */
  readAndClose(): number | null | undefined {
    if (this.fd === null) return undefined;
    const bytes = Buffer.alloc(4);
    let id = 0;
    try {
      if (readSync(this.fd, bytes, 0, 4, 0) === 4) id = bytes.readUInt32LE(0);
    } catch {
      id = 0;
    }
    closeSync(this.fd);
    return id === 0 ? null : id;
  }
}

/**
 * The slave's side: records each op it starts (0: a context op). Only when the agent said fd 5 is
 * the record: otherwise fd 5 may be any file the program opened.
 */
export function runningOpWriter(fd = RUNNING_OP_FD): ((opId: number) => void) | undefined {
  if (process.env[RUNNING_OP_ENV] !== String(fd)) return undefined;
  // Processes the program starts must not take their own fd 5 for the record.
  delete process.env[RUNNING_OP_ENV];
  const bytes = Buffer.alloc(4);
  let usable = true;
  return (opId) => {
    if (!usable) return;
    bytes.writeUInt32LE(opId >>> 0, 0);
    try {
      writeSync(fd, bytes, 0, 4, 0);
    } catch {
      usable = false;
    }
  };
}
