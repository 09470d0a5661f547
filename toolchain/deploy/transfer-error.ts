// The one error a transfer throws. `kind` says what the caller can do about it: the deploy falls
// back to SFTP when rsync is missing on either side, and reports anything else with its reason.
import { MntError } from "../../core/errors.ts";

export type TransferFailure =
  | "rsync-missing-here" // no rsync on this machine
  | "rsync-missing-there" // the host has no rsync (its shell said "not found", exit 127)
  | "failed"; // the transfer ran and failed: the message carries the tool's own reason

export class TransferError extends MntError {
  override name = "TransferError";
  constructor(
    readonly kind: TransferFailure,
    message: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super("infrastructure", message, hint, options);
  }
}

/** True when the transfer could not use rsync at all (so SFTP can do it instead). */
export function isRsyncMissing(error: unknown): boolean {
  return error instanceof TransferError && (error.kind === "rsync-missing-here" || error.kind === "rsync-missing-there");
}

/** What to do about an OS reason a transfer or a script on the host gave, when there is a known fix. */
export function fixForReason(reason: string | null): string | undefined {
  if (!reason) return undefined;
  if (/No space left/i.test(reason)) return "free disk space on the host";
  if (/Read-only|Permission denied/i.test(reason)) return "point workDir in the hosts file at a writable folder";
  return undefined;
}

/** The first non-empty line of a tool's output ("" when there is none). */
export function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.trim() ?? "";
}
