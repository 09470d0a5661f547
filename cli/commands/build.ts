// `mnt build program.ts [--arch all|hosts|LIST] [--hosts hosts.yaml] [--out DIR] [--json] [--force]`
import type { Argv } from "yargs";
import { DEFAULT_OUT_DIR, buildProgram } from "../../toolchain/build/build.ts";
import type { BuildEvent, TargetBuilt } from "../../toolchain/build/events.ts";
import { ExitCode, exitCodeFor } from "../exit-codes.ts";
import { chooseTargets } from "../target-choice.ts";
import { formatBytes } from "../format.ts";

export interface BuildArgs {
  program: string;
  arch?: string;
  hosts?: string;
  out: string;
  json: boolean;
  force: boolean;
  quiet: boolean;
}

export function buildBuilder(yargs: Argv): Argv<BuildArgs> {
  return yargs
    .positional("program", { type: "string", describe: "the program (a TypeScript or JavaScript module)", demandOption: true })
    .option("arch", { type: "string", describe: "all | hosts | a list such as x64,arm64,armv7l,riscv64 [default: hosts with --hosts, else this machine's]" })
    .option("hosts", { type: "string", describe: "the hosts inventory whose targets --arch hosts builds" })
    .option("out", { type: "string", default: DEFAULT_OUT_DIR, describe: "one release folder per target is written under it" })
    .option("force", { type: "boolean", default: false, describe: "rebuild native packages even when nothing changed" })
    .option("json", { type: "boolean", default: false, describe: "print one JSON object on stdout" })
    .option("quiet", { type: "boolean", default: false, alias: "q", describe: "only errors" })
    .example("$0 build examples/native-addons/native.ts --arch all", "a release for every target, native addons built for each")
    .example("$0 build job.ts --hosts hosts.yaml", "the targets the hosts run (probed)")
    .example("$0 build job.ts --arch x64,arm64 --json", "machine-readable result") as unknown as Argv<BuildArgs>;
}

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

export function renderBuildEvent(event: BuildEvent, note: (line: string) => void): void {
  switch (event.kind) {
    case "bundled":
      note(`bundled ${event.program} (${event.id}) in ${Math.round(event.ms)} ms${event.externals.length ? `; native packages: ${event.externals.join(", ")}` : ""}`);
      return;
    case "target.start":
      return;
    case "target.log":
      note(`${event.target}: ${event.line}`);
      return;
    case "target.done":
      note(describeTarget(event.built));
      return;
    case "target.failed":
      return; // said once, as an error line, when the build ends
    default: {
      const never: never = event;
      return never;
    }
  }
}

function describeTarget(t: TargetBuilt): string {
  const addons = t.addons.length === 0 ? "" : `, ${t.addons.length} addons (${t.addons.map((a) => `${a.package}: ${a.loadTested === true ? "load-tested" : `not load-tested: ${a.loadTested}`}`).join("; ")})`;
  const what = t.upToDate ? "up to date" : `built${t.nativesCached ? "" : " (native packages built)"}`;
  return `${t.target}: release ${t.releaseId} ${what}: ${t.files} files, ${formatBytes(t.bytes)}${addons} in ${(t.ms / 1000).toFixed(2)} s → ${t.dir}`;
}

function targetJson(t: TargetBuilt) {
  return { ...t, ms: Math.round(t.ms) };
}
