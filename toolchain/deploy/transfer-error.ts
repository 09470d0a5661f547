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
