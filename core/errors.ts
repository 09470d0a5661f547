// One error type for Marionette's own failures: a code, a subject (where) and a next step (fix).
// User exceptions from ops are not wrapped: they reach the program as the slave threw them.

export type MntErrorCode =
  | "usage" // the command line is wrong
  | "program" // the program file is missing, does not compile, or exports no program
  | "config" // a configuration file is wrong
  | "infrastructure" // agents or slaves could not be started or were all lost
  | "protocol" // a peer sent frames that make no sense
  | "timeout" // an op took longer than its timeout
  | "aborted" // an op was cancelled
  | "unknown-op" // an op name the program does not define
  | "poison" // an op killed slaves again and again
  | "encode"; // a value that cannot cross the wire

export class MntError extends Error {
  override name = "MntError";
  constructor(
    readonly code: MntErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(hint ? `${message} (${hint})` : message, options);
  }
}

export class TimeoutError extends MntError {
  override name = "TimeoutError";
  constructor(message: string) {
    super("timeout", message);
  }
}

export class AbortError extends MntError {
  override name = "AbortError";
  constructor(message: string, cause?: unknown) {
    super("aborted", message, undefined, { cause });
  }
}
