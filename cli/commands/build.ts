// `mnt build program.ts [--arch all|hosts|LIST] [--hosts hosts.yaml] [--out DIR] [--json] [--force]`
import type { BuildArgs } from "./build-flags.ts";
import { buildProgram } from "../../toolchain/build/build.ts";
import type { TargetBuilt } from "../../toolchain/build/events.ts";
import { renderBuildEvent } from "../build-report.ts";
import { ExitCode, exitCodeFor } from "../exit-codes.ts";
import { chooseTargets } from "../target-choice.ts";

export async function buildCommand(args: BuildArgs): Promise<number> {
  const note = (line: string) => {
    if (!args.quiet && !args.json) process.stderr.write(`[mnt] ${line}\n`);
  };
  const started = performance.now();
  const targets = await chooseTargets(args.arch, args.hosts, note);
  const result = await buildProgram({ program: args.program, targets, outDir: args.out, force: args.force, onEvent: (event) => renderBuildEvent(event, note) });
  const upToDate = result.targets.every((t) => t.upToDate);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (result.targets.length > 0) note(`${upToDate ? "nothing changed" : "built"} in ${seconds} s: ${result.targets.map((t) => t.target).join(", ")} under ${args.out}`);
  const ok = result.failed.length === 0;
  if (args.json) {
    const failed = result.failed.map((f) => ({ target: f.target, error: f.error.message }));
    process.stdout.write(JSON.stringify({ ok, program: args.program, bundle: result.bundle.hash, externals: result.bundle.externals, out: args.out, ms: Math.round(performance.now() - started), targets: result.targets.map(targetJson), failed }) + "\n");
  } else {
    for (const f of result.failed) process.stderr.write(`mnt: ${f.error.message}\n`);
  }
  if (ok) return ExitCode.ok;
  return exitCodeFor(result.failed[0]!.error);
}

function targetJson(t: TargetBuilt) {
  return { ...t, ms: Math.round(t.ms) };
}
