// `mnt exec program.ts`: bundle, start local agents, run main, exit with its code.
import type { ExecArgs } from "./exec-flags.ts";
import os from "node:os";
import path from "node:path";
import { localConnector } from "../../core/connections/local.ts";
import { MntError } from "../../core/errors.ts";
import { runProgram, type RunOutcome } from "../../core/runtime/run-program.ts";
import type { AgentSpec, Runtime, RuntimeOptions } from "../../core/runtime/runtime.ts";
import type { RunStats } from "../../core/program/index.ts";
import { PROGRAM_FILE } from "../../toolchain/build/release-folder.ts";
import { hostTarget } from "../../toolchain/targets.ts";
import { releaseSource } from "../release-source.ts";
import { ExitCode, exitCodeFor } from "../exit-codes.ts";
import { agentBuildHash, cacheDir, packageRoot } from "../../toolchain/own-files.ts";
import { AGENT_FILE } from "../../toolchain/build/release-folder.ts";
import { createHash } from "node:crypto";
import { plainReporter } from "../report.ts";
import { requireAllWatch } from "../require-all.ts";
import { startProgress } from "../progress.ts";
import { openRunOutputs, type RunOutputs } from "../trace/run-outputs.ts";

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
  const recovery = recoveryOptions(args);
  if (args.hosts !== undefined && args.slots !== undefined) throw new MntError("usage", "--slots is for runs on this machine; with --hosts, set slots: in the hosts file");
  if (args.hosts === undefined && args["require-all"]) throw new MntError("usage", "--require-all needs --hosts");
  if (args.slurm !== undefined && (args.hosts !== undefined || args.slots !== undefined)) throw new MntError("usage", `--slurm runs on the allocation's nodes with their CPUs as slots: drop ${args.hosts !== undefined ? "--hosts" : "--slots"}`);
  // --trace, --joblog: their files open now, so a path that cannot be written stops us before the build.
  const records = openRunOutputs({ trace: args.trace, joblog: args.joblog });
  try {
    return await execRun(args, started, reporter, recovery, records);
  } finally {
    records?.end();
  }
}

async function execRun(args: ExecArgs, started: number, reporter: ReturnType<typeof plainReporter>, recovery: Partial<RuntimeOptions>, records: RunOutputs | null): Promise<number> {
  // Built per program in mnt's cache (not a shared folder): two programs run side by side never
  // replace each other's release under a running agent.
  const outDir = args.out ?? path.join(cacheDir(), "build", createHash("sha256").update(path.resolve(args.program)).digest("hex").slice(0, 16));
  const releaseFor = releaseSource({ program: args.program, outDir, note: (line) => reporter.note(line), verbose: false });
  const localRelease = releaseFor(hostTarget());
  // With --hosts, connecting to the hosts and checking them goes on while this machine's release is
  // built (the deploy asks releaseFor for its targets and gets the same builds, in turn). Loaded
  // only for --hosts: SSH, the inventory's YAML and schema, and the deploy are not needed for a run
  // on this machine (they were ~80 ms of every local run's start-up).
  const hosts = args.hosts;
  const remoteStarted =
    hosts === undefined
      ? null
      : import("../remote-hosts.ts").then(({ remoteAgents }) => remoteAgents({ file: hosts, releaseFor, requireAll: args["require-all"], noDeploy: !args.deploy, reporter }));
  // Awaited below, after the local build: a program that does not compile is the error to show.
  remoteStarted?.catch(() => {});
  let local: Awaited<typeof localRelease>;
  try {
    local = await localRelease;
  } catch (error) {
    void remoteStarted?.then((remote) => remote.close(), () => {});
    throw error;
  }
  const masterProgram = path.join(local.dir, PROGRAM_FILE);
  let agents: AgentSpec[];
  let slots: number;
  let closeHosts: () => void | Promise<void> = () => {};
  if (remoteStarted) {
    const remote = await remoteStarted;
    ({ agents, slaves: slots } = remote);
    closeHosts = remote.close;
  } else if (args.slurm !== undefined) {
    // Loaded only for --slurm, like the SSH path for --hosts.
    const { slurmAgents } = await import("../slurm-hosts.ts");
    const slurm = await slurmAgents({ allocArgs: args.slurm, release: local, reporter });
    ({ agents, slaves: slots } = slurm);
    closeHosts = slurm.close;
  } else {
    slots = args.slots ?? (os.availableParallelism?.() ?? os.cpus().length);
    const connect = localConnector(path.join(local.dir, AGENT_FILE), {
      onStderrLine: (line) => reporter.event({ kind: "log", host: "local", slot: null, stream: "stderr", line }),
    });
    agents = [{ host: "local", connect, slots, programPath: masterProgram }];
  }

  // Ctrl-C (or a SIGTERM from CI): stop cleanly, say what finished, exit 130 (143). Twice: at once.
  const interrupt = new AbortController();
  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      process.stderr.write(`mnt: ${signal} again: exiting now\n`);
      process.exit(exitCodeForSignal(stoppedBy));
    }
    stoppedBy = signal;
    progress?.clear();
    reporter.note(`${signal === "SIGINT" ? "interrupted" : signal}: stopping the run (${signal === "SIGINT" ? "Ctrl-C" : signal} again to exit at once)`);
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let runtime: Runtime | null = null;
  // A host set aside before it ever ran fails a --require-all run (cli/require-all.ts).
  const requireAll = hosts !== undefined && args["require-all"] ? requireAllWatch((error) => queueMicrotask(() => (runtime as Runtime | null)?.fatal(error))) : null;
  const progress = args.json || args.quiet ? null : startProgress(() => runtime?.stats() ?? null);
  let outcome: RunOutcome;
  try {
    outcome = await runProgram({
      bundle: masterProgram,
      agents,
      argv: (args["--"] ?? []).map(String),
      expectedBuild: agentBuildHash(),
      onEvent: (event) => {
        progress?.clear();
        reporter.event(event);
        requireAll?.(event);
      },
      onRuntime: (r) => {
        runtime = r;
        records?.watch(r);
      },
      signal: interrupt.signal,
      runtime: records ? { ...recovery, observer: records.observer } : recovery,
    });
  } finally {
    await closeHosts();
    progress?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  const exitCode = stoppedBy && outcome.status === "interrupted" ? exitCodeForSignal(stoppedBy) : exitCodeOf(outcome);
  if (outcome.error && outcome.status !== "interrupted") {
    const error = outcome.error;
    const text = outcome.status !== "program-error" ? error.message : error instanceof MntError ? withProgramFrames(error) : (error.stack ?? error.message);
    process.stderr.write(`mnt: ${outcome.status === "program-error" ? "the program threw: " : ""}${text}\n`);
  }
  if (outcome.status === "ok" && outcome.ignoredReturn) reporter.note(`main returned ${outcome.ignoredReturn}, not an exit code, so exiting 0`);
  const s = outcome.stats;
  if (outcome.status === "interrupted") {
    // Said even with -q: the user asked for the stop and needs to know what was left undone.
    process.stderr.write(`mnt: ${interruptionSummary(s, outcome.wallMs)}\n`);
  } else {
    reporter.note(`${outcome.status === "ok" ? "done" : outcome.status} in ${(outcome.wallMs / 1000).toFixed(2)} s: ${runSummary(s)}`);
  }
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

/**
 * mnt's own error (a timeout, a poison op, an unknown op, a value that cannot be encoded) with only
 * the stack frames in the program: where main made the call, when it did so synchronously. Frames
 * inside mnt would only show its internals; an error raised later by the runtime keeps none.
 */
function withProgramFrames(error: MntError): string {
  const frames = (error.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line) && !isMntFrame(line));
  return [`${error.name}: ${error.message}`, ...frames].join("\n");
}

function isMntFrame(line: string): boolean {
  if (/\(node:|at node:|node_modules/.test(line)) return true;
  return ["core", "cli", "remote-agent", "toolchain", "dist"].some((folder) => line.includes(`${path.join(packageRoot, folder)}${path.sep}`));
}

/** The Recovery flags as runtime options, each checked to be a whole positive number. */
function recoveryOptions(args: ExecArgs): Partial<RuntimeOptions> {
  const flags = [
    ["op-timeout", "opTimeoutMs"],
    ["slave-timeout", "slaveTimeoutMs"],
    ["start-timeout", "startTimeoutMs"],
    ["agent-timeout", "heartbeatTimeoutMs"],
    ["wait-for-hosts", "waitForHostsMs"],
    ["poison-kills", "poisonKills"],
  ] as const;
  // Messages that tell the user to raise a limit name the flag that does it.
  const options: Partial<RuntimeOptions> = { settingNames: { startTimeoutMs: "--start-timeout" } };
  for (const [flag, option] of flags) {
    const value = args[flag];
    if (value === undefined) continue;
    if (!(Number.isInteger(value) && value >= 1)) throw new MntError("usage", `--${flag} ${value}: expected a whole number, at least 1`);
    options[option] = value;
  }
  // Heartbeats must come well within the limits they are checked against.
  if (options.slaveTimeoutMs !== undefined) options.slaveHeartbeatMs = Math.max(10, Math.min(500, Math.floor(options.slaveTimeoutMs / 4)));
  if (options.heartbeatTimeoutMs !== undefined) options.heartbeatMs = Math.max(10, Math.min(1000, Math.floor(options.heartbeatTimeoutMs / 4)));
  return options;
}

function runSummary(s: RunStats): string {
  const parts = [`${s.workerDone} worker ops`, `${s.contextOps} context ops`, `${s.workerRetried} retried`, `${s.workerFailed} failed`];
  if (s.slavesLost > 0) parts.push(`${s.slavesLost} slaves lost and replaced, ${s.workerRerun} op runs repeated`);
  if (s.workerPoisoned > 0) parts.push(`${s.workerPoisoned} ops failed for killing slaves`);
  return parts.join(", ");
}

function interruptionSummary(s: RunStats, wallMs: number): string {
  const dropped = s.workerQueued + s.workerRunning;
  return `stopped after ${(wallMs / 1000).toFixed(2)} s: ${s.workerDone} worker ops had finished, ${dropped} did not run to the end (${s.workerRunning} running, ${s.workerQueued} queued), ${s.contextOps} context ops issued`;
}

function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === "SIGTERM" ? ExitCode.terminated : ExitCode.interrupted;
}

function exitCodeOf(outcome: RunOutcome): number {
  switch (outcome.status) {
    case "ok":
      return outcome.programExitCode;
    case "program-error":
    case "bad-exit-code":
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
