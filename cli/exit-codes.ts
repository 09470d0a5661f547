import type { MntError } from "../core/errors.ts";

// mnt's exit codes (sysexits style). `mnt exec` otherwise passes through the program's own code.
export const ExitCode = {
  ok: 0,
  /** The command line is wrong. */
  usage: 64,
  /** The program file is missing, does not compile, or has no default defineProgram export. */
  programInvalid: 65,
  /** No agent or slave could run (or all were lost). */
  unavailable: 69,
  /** The program's main threw (or rejected), or returned a number that is not an exit code. */
  programError: 70,
  /** Host key or authentication refused. */
  authRefused: 77,
  /** A configuration file is wrong. */
  config: 78,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
  /** Stopped by SIGTERM (e.g. a CI job cancelled). */
  terminated: 143,
} as const;

const EXIT_BY_ERROR: Partial<Record<MntError["code"], number>> = {
  usage: ExitCode.usage,
  program: ExitCode.programInvalid,
  config: ExitCode.config,
  infrastructure: ExitCode.unavailable,
  auth: ExitCode.authRefused,
};

/** The exit code for one of mnt's own failures. */
export function exitCodeFor(error: MntError): number {
  return EXIT_BY_ERROR[error.code] ?? ExitCode.unavailable;
}
