// Runs one program: loads its bundle as the master, starts the agents, runs main, shuts down.
import { pathToFileURL } from "node:url";
import { isProgram, type Program, type RunStats } from "../program/index.ts";
import { MntError, errorFromThrown } from "../errors.ts";
import { createMasterApi } from "./master-api.ts";
import { Runtime, type AgentSpec, type RuntimeEvent, type RuntimeOptions } from "./runtime.ts";

/** "bad-exit-code": main returned a number that is not an exit code (1.5, NaN, -1, 256 …). */
export type RunStatus = "ok" | "program-error" | "bad-exit-code" | "program-invalid" | "infrastructure" | "interrupted";

export interface RunOutcome {
  status: RunStatus;
  /** The exit code main returned (a whole number from 0 to 255), else 0 (meaningful when status is "ok"). */
  programExitCode: number;
  /** What main returned when that was neither a number nor undefined ("a string", "null" …): no exit code, so 0. */
  ignoredReturn: string | null;
  error: Error | null;
  wallMs: number;
  stats: RunStats;
}

export interface RunProgramOptions {
  /** The bundled program (an ESM file) on this machine. */
  bundle: string;
  agents: AgentSpec[];
  argv: string[];
  expectedBuild: string | null;
  onEvent?: (event: RuntimeEvent) => void;
  runtime?: Partial<Omit<RuntimeOptions, "workerNames" | "contextNames" | "expectedBuild">>;
  /** Aborting stops the run (Ctrl-C): queued ops are rejected, agents closed. */
  signal?: AbortSignal;
  /** Called with the runtime once it exists (progress displays poll its stats). */
  onRuntime?: (runtime: Runtime) => void;
}

export async function loadProgram(bundle: string): Promise<Program> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(bundle).href)) as { default?: unknown };
  } catch (error) {
    throw new MntError("program", `the program failed to load: ${(error as Error).stack ?? error}`);
  }
  if (!isProgram(module.default)) {
    throw new MntError("program", "the program has no default export made by defineProgram()", 'end it with `export default defineProgram({ init, worker, main })` imported from "marionette-mnt"');
  }
  return module.default;
}

export async function runProgram(options: RunProgramOptions): Promise<RunOutcome> {
  const started = performance.now();
  const program = await loadProgram(options.bundle);
  const workerNames = Object.keys(program.worker ?? {}).sort();
  const contextNames = Object.keys(program.context ?? {}).sort();
  const runtime = new Runtime({ ...options.runtime, workerNames, contextNames, expectedBuild: options.expectedBuild });
  if (options.onEvent) runtime.onEvent(options.onEvent);
  options.onRuntime?.(runtime);

  let interrupted = false;
  const fatal = new Promise<never>((_, reject) => {
    runtime.onEvent((event) => {
      if (event.kind === "fatal") reject(event.error);
    });
    options.signal?.addEventListener("abort", () => {
      interrupted = true;
      reject(new MntError("infrastructure", "interrupted"));
    });
  });
  fatal.catch(() => {});

  // A host that cannot start is reported through events and retried; the run fails only when none is left.
  for (const spec of options.agents) runtime.addAgent(spec).catch(() => {});

  const m = createMasterApi(runtime, workerNames, contextNames);
  let status: RunStatus = "ok";
  let programExitCode = 0;
  let ignoredReturn: string | null = null;
  let error: Error | null = null;
  try {
    const returned: unknown = await Promise.race([Promise.resolve().then(() => program.main(m as never, options.argv)), fatal]);
    if (isExitCode(returned)) programExitCode = returned;
    else if (returned !== undefined && typeof returned !== "number") ignoredReturn = kindOf(returned);
    // Ops main issued without awaiting are still the program's work: let them finish.
    await Promise.race([runtime.whenIdle(), fatal]);
    if (typeof returned === "number" && !isExitCode(returned)) {
      status = "bad-exit-code";
      error = notAnExitCode(returned);
    }
  } catch (thrown) {
    error = errorFromThrown(thrown, "main");
    if (interrupted) status = "interrupted";
    else if (runtime.fatalError) {
      status = runtime.fatalError.code === "program" ? "program-invalid" : "infrastructure";
      error = runtime.fatalError;
    } else status = "program-error";
  }
  const stats = runtime.stats();
  if (status === "infrastructure") runtime.close("the run has failed");
  // An interrupted run also stops cleanly: slaves finish printing, and the agents leave.
  else await runtime.stop(status === "interrupted" ? "the run was interrupted" : "the run has ended");
  await runtime.disconnect();
  return { status, programExitCode, ignoredReturn, error, wallMs: performance.now() - started, stats };
}

/** Whether a value can be a process's exit code: a whole number from 0 to 255 (256 would wrap to 0). */
export function isExitCode(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255;
}

/** Why a number main returned cannot be mnt's exit code. */
export function notAnExitCode(value: number): MntError {
  return new MntError("program", `main returned ${value}, not an exit code`, "return a whole number from 0 to 255");
}

/** "a string", "an object", "null" …: what main returned instead of a number. */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}
