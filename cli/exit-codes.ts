// mnt's exit codes (sysexits style). `mnt exec` otherwise passes through the program's own code.
export const ExitCode = {
  ok: 0,
  /** The command line is wrong. */
  usage: 64,
  /** The program file is missing, does not compile, or has no default defineProgram export. */
  programInvalid: 65,
  /** No agent or slave could run (or all were lost). */
  unavailable: 69,
  /** The program's main threw (or rejected). */
  programError: 70,
  /** Host key or authentication refused. */
  authRefused: 77,
  /** A configuration file is wrong. */
  config: 78,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;
