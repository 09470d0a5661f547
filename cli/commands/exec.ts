// `mnt exec program.ts`: bundle, start local agents, run main, exit with its code.
import type { Argv } from "yargs";
import os from "node:os";
import path from "node:path";
import { startLocalAgent } from "../../core/connections/local.ts";
import { MntError } from "../../core/errors.ts";
import { runProgram, type RunOutcome } from "../../core/runtime/run-program.ts";
import type { Runtime } from "../../core/runtime/runtime.ts";
import type { RunStats } from "../../core/program/index.ts";
import { bundleProgram } from "../../toolchain/bundle-program.ts";
import { ExitCode, exitCodeFor } from "../exit-codes.ts";
import { agentBuildHash, agentBundle, cacheDir } from "../paths.ts";
import { plainReporter } from "../report.ts";
import { startProgress } from "../progress.ts";

export interface ExecArgs {
  program: string;
  slots?: number;
  json: boolean;
  quiet: boolean;
  "--"?: Array<string | number>;
  _: Array<string | number>;
}

export function execBuilder(yargs: Argv): Argv<ExecArgs> {
  return yargs
    .positional("program", { type: "string", describe: "the program (a TypeScript or JavaScript module)", demandOption: true })
    .option("slots", { type: "number", describe: "slaves to run on this machine (default: its core count)" })
    .option("json", { type: "boolean", default: false, describe: "print one JSON summary on stdout at the end" })
    .option("quiet", { type: "boolean", default: false, alias: "q", describe: "no narration, only remote output and errors" })
    .example("$0 exec examples/pi/pi.ts", "estimate π on local slaves (one per core)")
    .example("$0 exec examples/pi/pi.ts --slots 4 -- --batches 128", "4 slaves; arguments after -- go to main")
    .example("$0 exec job.ts --json > summary.json", "machine-readable summary") as unknown as Argv<ExecArgs>;
}

export async function execCommand(args: ExecArgs): Promise<number> {
  const started = performance.now();
  if (args.json) {
    // stdout carries the JSON summary alone: what main prints goes to stderr.
    console.log = console.info = console.debug = console.error;
  }
  try {
    return await execProgram(args, started);
  } catch (error) {
    // Failures before the run (no such file, does not compile, bad flags) still get their JSON.
    if (args.json && error instanceof MntError) {
      const exitCode = exitCodeFor(error);
      const status = error.code === "program" ? "program-invalid" : error.code === "usage" ? "usage" : "infrastructure";
      process.stdout.write(JSON.stringify(summaryJson({ exitCode, status, error: error.message, wallMs: performance.now() - started, slaves: 0, slavesStarted: 0, stats: null })) + "\n");
    }
    throw error;
  }
}

interface SummaryInput {
  exitCode: number;
  status: string;
  error: string | null;
  wallMs: number;
  /** Slaves asked for. */
  slaves: number;
  /** Slaves that loaded the program (restarts included; fewer when main ended first). */
  slavesStarted: number;
  stats: RunStats | null;
}

function summaryJson({ exitCode, status, error, wallMs, slaves, slavesStarted, stats }: SummaryInput) {
  return {
    ok: status === "ok" && exitCode === 0,
    exitCode,
    status,
    error,
    wallMs: Math.round(wallMs),
    slaves,
    slavesStarted,
    ops: { worker: stats ? stats.workerDone + stats.workerFailed : 0, context: stats?.contextOps ?? 0, retried: stats?.workerRetried ?? 0, failed: stats?.workerFailed ?? 0 },
    shared: { versions: stats?.sharedVersions ?? 0, bytesSent: stats?.sharedBytesSent ?? 0 },
  };
}

async function execProgram(args: ExecArgs, started: number): Promise<number> {
  const reporter = plainReporter(undefined, args.quiet || args.json);
  if (args.slots !== undefined && !(Number.isInteger(args.slots) && args.slots >= 1)) {
    throw new MntError("usage", `--slots ${args.slots}: expected a whole number of slaves, at least 1`);
  }
  const bundle = await bundleProgram(args.program, path.join(cacheDir(), "programs"));
  const slots = args.slots ?? (os.availableParallelism?.() ?? os.cpus().length);
  const local = startLocalAgent(agentBundle);
  local.onStderrLine((line) => reporter.event({ kind: "log", host: "local", slot: null, stream: "stderr", line }));

  const interrupt = new AbortController();
  const onSigint = () => {
    reporter.note("interrupted: stopping (Ctrl-C again to force)");
    process.off("SIGINT", onSigint);
    process.once("SIGINT", () => process.exit(ExitCode.interrupted));
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);
  let runtime: Runtime | null = null;
  const progress = args.json || args.quiet ? null : startProgress(() => runtime?.stats() ?? null);
  let outcome: RunOutcome;
  try {
    outcome = await runProgram({
      bundle: bundle.file,
      agents: [{ host: "local", transport: local.transport, slots, programPath: bundle.file }],
      argv: (args["--"] ?? []).map(String),
      expectedBuild: agentBuildHash(),
      onEvent: (event) => {
        progress?.clear();
        reporter.event(event);
      },
      onRuntime: (r) => (runtime = r),
      signal: interrupt.signal,
    });
  } finally {
    progress?.stop();
    process.off("SIGINT", onSigint);
  }
  // Agents exit when their stdin closes; wait briefly so no process outlives mnt.
  await Promise.race([local.exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  if (local.process.exitCode === null && local.process.signalCode === null) local.process.kill("SIGKILL");

  const exitCode = exitCodeOf(outcome);
  if (outcome.error && outcome.status !== "interrupted") {
    const error = outcome.error;
    const text = outcome.status === "program-error" ? (error.stack ?? error.message) : error.message;
    process.stderr.write(`mnt: ${outcome.status === "program-error" ? "the program threw: " : ""}${text}\n`);
  }
  const s = outcome.stats;
  reporter.note(
    `${outcome.status === "ok" ? "done" : outcome.status} in ${(outcome.wallMs / 1000).toFixed(2)} s: ${s.workerDone} worker ops, ${s.contextOps} context ops, ${s.workerRetried} retried, ${s.workerFailed} failed`,
  );
  if (args.json) {
    const summary = summaryJson({
      exitCode,
      status: outcome.status,
      error: outcome.error?.message ?? null,
      wallMs: performance.now() - started,
      slaves: slots,
      slavesStarted: s.slavesStarted,
      stats: s,
    });
    process.stdout.write(JSON.stringify(summary) + "\n");
  }
  return exitCode;
}

function exitCodeOf(outcome: RunOutcome): number {
  switch (outcome.status) {
    case "ok":
      return outcome.programExitCode;
    case "program-error":
      return ExitCode.programError;
    case "program-invalid":
      return ExitCode.programInvalid;
    case "infrastructure":
      return ExitCode.unavailable;
    case "interrupted":
      return ExitCode.interrupted;
    default: {
      const never: never = outcome.status;
      return never;
    }
  }
}
