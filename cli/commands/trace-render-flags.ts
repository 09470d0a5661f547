// The flags of `mnt trace render`: kept apart from the command itself so that `mnt --help` and
// every other command start without loading what this one needs.
import type { Argv } from "yargs";

export interface TraceRenderArgs {
  file: string;
  out: string;
  width: number;
}

export function traceRenderBuilder(yargs: Argv): Argv<TraceRenderArgs> {
  return yargs
    .positional("file", { type: "string", describe: "a trace written by `mnt exec --trace`", demandOption: true })
    .option("out", { type: "string", alias: "o", demandOption: true, requiresArg: true, describe: "the PNG to write" })
    .option("width", { type: "number", default: 1600, describe: "image width in pixels" })
    .example("$0 trace render trace.json -o trace.png", "one row per slave, ops coloured by name, losses marked, the queue on top") as unknown as Argv<TraceRenderArgs>;
}
