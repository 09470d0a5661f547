// What the runtime says and waits when processes fail: backoff delays, how a slave's end is
// described, and the error of an op that keeps killing slaves.
import { inspect } from "node:util";
import { decode } from "../protocol/codec.ts";
import type { SlaveExit } from "../protocol/messages.ts";
import { MntError } from "../errors.ts";

/** Delay before attempt `failures` + 1 after `failures` failures in a row: none first, then doubling. */
export function backoffMs(failures: number, firstMs: number, maxMs: number): number {
  if (failures <= 1) return 0;
  return Math.min(maxMs, firstMs * 2 ** (failures - 2));
}

/** "killed by SIGSEGV; last stderr: a | b" — the clue a user needs when a slave dies. */
export function describeSlaveExit(exit: SlaveExit, stderrLines = 3): string {
  const how = exit.reason ?? (exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`);
  const tail = exit.stderrTail.filter((line) => line.trim() !== "").slice(-stderrLines);
  return tail.length > 0 ? `${how}; last stderr: ${tail.join(" | ")}` : how;
}

/** A short, one-line picture of an op's input, for error messages. */
export function summarizeInput(payload: Buffer, maxChars = 120): string {
  if (payload.length === 0) return "undefined";
  let value: unknown;
  try {
    value = decode(payload);
  } catch {
    return `<${payload.length} bytes>`;
  }
  const text = inspect(value, { depth: 2, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60, compact: true });
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

export interface SlaveDeath {
  /** host:slot */
  where: string;
  /** What ended it (signal or exit code, the agent's reason, last stderr lines). */
  how: string;
}

/** An op whose runs killed slaves again and again: it is failed instead of being run once more. */
export class PoisonOpError extends MntError {
  override name = "PoisonOpError";
  constructor(
    readonly op: string,
    readonly opId: number,
    readonly input: string,
    readonly deaths: SlaveDeath[],
  ) {
    super(
      "poison",
      `${op} (op ${opId}, input ${input}) killed ${deaths.length} slaves and was not run again: ${deaths.map((d) => `${d.where} ${d.how}`).join("; ")}`,
      "fix the op for this input, or catch this error in main",
    );
  }
}
