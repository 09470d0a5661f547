// `mnt trace render trace.json -o trace.png`: a picture of a run's trace, for a README or a report
// (ui.perfetto.dev is the place to explore one).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { renderTrace } from "../trace/render/render-trace.ts";
import { readTrace } from "../trace/render/trace-model.ts";
import type { TraceRenderArgs } from "./trace-render-flags.ts";

export function traceRenderCommand(args: TraceRenderArgs): number {
  if (!(Number.isInteger(args.width) && args.width >= 400 && args.width <= 20_000)) {
    throw new MntError("usage", `--width ${args.width}: expected a whole number of pixels from 400 to 20000`);
  }
  const model = readTrace(args.file);
  const slaves = model.tracks.filter((track) => track.slices.length > 0).length;
  const ops = model.tracks.reduce((n, track) => n + track.slices.filter((slice) => !slice.context).length, 0);
  const title = `${path.basename(args.file)}: ${ops} op runs on ${slaves} slave tracks, ${((model.end - model.start) / 1000).toFixed(1)} ms from the first slave up`;
  const png = renderTrace(model, { width: args.width, title });
  try {
    writeFileSync(args.out, png);
  } catch (error) {
    throw new MntError("usage", `-o ${args.out}: cannot write the image (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, "give -o a path in a folder you can write to");
  }
  process.stderr.write(`[mnt] wrote ${args.out} (${png.length} bytes)\n`);
  return ExitCode.ok;
}
