// Runs one program: loads its bundle as the master, starts the agents, runs main, shuts down.
import { pathToFileURL } from "node:url";
import { isProgram, type Program, type RunStats } from "../program/index.ts";
import { MntError } from "../errors.ts";
import { createMasterApi } from "./master-api.ts";
import { Runtime, type AgentSpec, type RuntimeEvent, type RuntimeOptions } from "./runtime.ts";

export type RunStatus = "ok" | "program-error" | "program-invalid" | "infrastructure" | "interrupted";

export interface RunOutcome {
  status: RunStatus;
  /** main's return value when it returned one, else 0 (meaningful when status is "ok"). */
  programExitCode: number;
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
  let error: Error | null = null;
  try {
    const code = await Promise.race([Promise.resolve().then(() => program.main(m as never, options.argv)), fatal]);
    programExitCode = typeof code === "number" ? code : 0;
    // Ops main issued without awaiting are still the program's work: let them finish.
    await Promise.race([runtime.whenIdle(), fatal]);
  } catch (thrown) {
    error = thrown instanceof Error ? thrown : new Error(String(thrown));
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
  return { status, programExitCode, error, wallMs: performance.now() - started, stats };
}
