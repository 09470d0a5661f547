// Loads the program bundle in a slave: its default export must be a defineProgram(...) result. The
// ops are numbered by their sorted names, as the master numbers them (an Op frame carries the index).
import { pathToFileURL } from "node:url";

type AnyFn = (...args: unknown[]) => unknown;

export interface LoadedProgram {
  init: () => unknown;
  worker: Record<string, AnyFn>;
  context?: Record<string, AnyFn>;
}

/** A program's ops by index: names sorted, functions in the same order. */
export interface ProgramOps {
  workerNames: string[];
  workerFns: AnyFn[];
  contextNames: string[];
  contextFns: AnyFn[];
}

/** Marks a program object across bundles (core/program's PROGRAM_BRAND, which the agent bundle does not import). */
const PROGRAM_BRAND = Symbol.for("marionette-mnt.program");

export async function loadProgram(file: string): Promise<LoadedProgram> {
  // Stacks of the program's errors name its .ts lines (its bundle carries an inline source map).
  // Enabled here, not with --enable-source-maps at start: that made every agent and slave parse
  // the agent bundle's own 330 KB map as well (15–25% of their start-up CPU, measured).
  process.setSourceMapsEnabled(true);
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  const candidate = module.default as Record<symbol, unknown> | undefined;
  if (!candidate || candidate[PROGRAM_BRAND] !== true) throw new Error("the program's default export is not a defineProgram(...) result");
  return candidate as unknown as LoadedProgram;
}

export function programOps(program: LoadedProgram): ProgramOps {
  const workerNames = Object.keys(program.worker).sort();
  const contextNames = Object.keys(program.context ?? {}).sort();
  return {
    workerNames,
    workerFns: workerNames.map((name) => program.worker[name]!),
    contextNames,
    contextFns: contextNames.map((name) => program.context![name]!),
  };
}
