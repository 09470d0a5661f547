// One error type for Marionette's own failures: a code, a subject (where) and a next step (fix).
// User exceptions from ops are not wrapped: they reach the program as the slave threw them.
import { inspect } from "node:util";

export type MntErrorCode =
  | "usage" // the command line is wrong
  | "program" // the program file is missing, does not compile, exports no program, or main returned no exit code
  | "config" // a configuration file is wrong
  | "infrastructure" // agents or slaves could not be started or were all lost
  | "auth" // a host key or a login was refused
  | "protocol" // a peer sent frames that make no sense
  | "timeout" // an op took longer than its timeout
  | "aborted" // an op was cancelled
  | "unknown-op" // an op name the program does not define
  | "poison" // an op killed slaves again and again
  | "placement" // no host can take an op (the tags it asks for)
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

/** A configuration file is wrong: every problem, one line each (`hosts.yaml:12:7: hosts[2].port: …`). */
export class ConfigError extends MntError {
  override name = "ConfigError";
  readonly errors: string[];
  constructor(errors: string[], hint?: string, options?: { cause?: unknown }) {
    if (errors.length === 0) throw new TypeError("ConfigError needs at least one error line");
    super("config", errors[0]!, hint, options);
    this.errors = errors;
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

/**
 * What user code threw, as an Error: an Error as it is, anything else wrapped in one whose message
 * shows it (`incr threw a non-Error value: { code: 'E_QUOTA', limit: 42 }`). `who` names the code.
 * The wrapper has no stack lines: a thrown non-Error carries none, and this function's would only
 * point inside mnt.
 */
export function errorFromThrown(thrown: unknown, who: string): Error {
  if (thrown instanceof Error) return thrown;
  const error = new Error(`${who} threw a non-Error value: ${showValue(thrown)}`);
  error.stack = `Error: ${error.message}`;
  return error;
}

/** A value on one short line: a string as it is, anything else as util.inspect shows it (depth 2). */
export function showValue(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return inspect(value, { depth: 2, breakLength: Infinity, compact: true, maxArrayLength: 10, maxStringLength: 200 });
  } catch {
    return Object.prototype.toString.call(value);
  }
}
