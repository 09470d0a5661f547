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
  // Stacks from the program name its .ts lines (the bundle's map is inline). Turned on here, not at
  // start-up: parsing mnt's own source map would cost every command ~90 ms.
  process.setSourceMapsEnabled(true);
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
  // A promise the program let reject with nothing to catch it (an op it did not await that threw)
  // is the program failing, as Node.js would have it; it ends the run like a throw from main.
  let onUnhandled: (reason: unknown) => void = () => {};
  const unhandled = new Promise<never>((_, reject) => {
    onUnhandled = (reason) => reject(unhandledRejection(reason));
  });
  unhandled.catch(() => {});
  process.on("unhandledRejection", onUnhandled);

  // A host that cannot start is reported through events and retried; the run fails only when none is left.
  for (const spec of options.agents) runtime.addAgent(spec).catch(() => {});

  const m = createMasterApi(runtime, workerNames, contextNames);
  let status: RunStatus = "ok";
  let programExitCode = 0;
  let ignoredReturn: string | null = null;
  let error: Error | null = null;
  try {
    const returned: unknown = await Promise.race([Promise.resolve().then(() => program.main(m as never, options.argv)), fatal, unhandled]);
    if (isExitCode(returned)) programExitCode = returned;
    else if (returned !== undefined && typeof returned !== "number") ignoredReturn = kindOf(returned);
    // Ops main issued without awaiting are still the program's work: let them finish.
    await Promise.race([runtime.whenIdle(), fatal, unhandled]);
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
  process.off("unhandledRejection", onUnhandled);
  if (status === "infrastructure") runtime.close("the run has failed");
  // An interrupted run also stops cleanly: slaves finish printing, and the agents leave.
  else await runtime.stop(status === "interrupted" ? "the run was interrupted" : "the run has ended");
  await runtime.disconnect();
  return { status, programExitCode, ignoredReturn, error, wallMs: performance.now() - started, stats };
}

function unhandledRejection(reason: unknown): Error {
  const error = errorFromThrown(reason, "a promise");
  // The message says where it came from; the stack (the op's, mapped to the program's lines) stays.
  error.message = `a promise was rejected and nothing handled it (an op not awaited?): ${error.message}`;
  if (error.stack) error.stack = error.stack.replace(/^[^\n]*/, `${error.name}: ${error.message}`);
  return error;
}

/** Whether a value can be a process's exit code: a whole number from 0 to 255 (256 would wrap to 0). */
function isExitCode(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255;
}

/** Why a number main returned cannot be mnt's exit code. */
function notAnExitCode(value: number): MntError {
  return new MntError("program", `main returned ${value}, not an exit code`, "return a whole number from 0 to 255");
}

/** "a string", "an object", "null" …: what main returned instead of a number. */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}
