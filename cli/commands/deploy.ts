// `mnt deploy hosts.yaml [program.ts]`: every host gets the release for its target. With a program,
// what is missing or stale is built first (cached); without one, the releases already built under
// --out are sent (a host whose target has none is told which `mnt build --arch` to run).
import type { Argv } from "yargs";
import { loadInventory } from "../../core/hosts/inventory.ts";
import { MntError } from "../../core/errors.ts";
import { DEFAULT_OUT_DIR } from "../../toolchain/build/build.ts";
import { deploy } from "../../toolchain/deploy/deploy.ts";
import { ExitCode } from "../exit-codes.ts";
import { terminalPassphrasePrompt } from "../passphrase.ts";
import { listrDeployRenderer, plainDeployRenderer } from "../deploy-report.ts";
import { releaseSource } from "../release-source.ts";

export interface DeployArgs {
  file: string;
  program?: string;
  out: string;
  json: boolean;
  quiet: boolean;
  "allow-partial": boolean;
  concurrency: number;
}

export function deployBuilder(yargs: Argv): Argv<DeployArgs> {
  return yargs
    .positional("file", { type: "string", describe: "the hosts inventory", demandOption: true })
    .positional("program", { type: "string", describe: "build this program first (cached) and deploy it" })
    .option("out", { type: "string", default: DEFAULT_OUT_DIR, describe: "the build folder (one release folder per target)" })
    .option("allow-partial", { type: "boolean", default: false, describe: "exit 0 when at least one host was deployed (default: only when all were)" })
    .option("concurrency", { type: "number", default: 8, describe: "hosts deployed at once" })
    .option("json", { type: "boolean", default: false, describe: "print one JSON object on stdout" })
    .option("quiet", { type: "boolean", default: false, alias: "q", describe: "only failures" })
    .example("$0 deploy hosts.yaml job.ts", "build what is stale, then send each host its release")
    .example("$0 deploy hosts.yaml --json", "send the releases already built under .mnt/build") as unknown as Argv<DeployArgs>;
}

export async function deployCommand(args: DeployArgs): Promise<number> {
  if (!(Number.isInteger(args.concurrency) && args.concurrency >= 1)) throw new MntError("usage", `--concurrency ${args.concurrency}: expected a whole number, at least 1`);
  const started = performance.now();
  const inventory = loadInventory(args.file);
  const names = inventory.hosts.map((host) => host.name);
  const tty = process.stderr.isTTY && process.env.CI !== "true" && !args.quiet && !args.json && !process.env.NO_COLOR;
  const note = (line: string) => {
    if (!args.quiet && !args.json) process.stderr.write(`[mnt] ${line}\n`);
  };
  const renderer = tty ? listrDeployRenderer(names) : plainDeployRenderer((line) => process.stderr.write(`${line}\n`), args.quiet || args.json);
  const outcome = await deploy({
    hosts: inventory.hosts,
    releaseFor: releaseSource({ program: args.program, outDir: args.out, note: tty ? () => {} : note, verbose: true }),
    check: { askPassphrase: terminalPassphrasePrompt(), onHostKeyRecorded: (line) => note(`recorded a new host key: ${line}`) },
    concurrency: args.concurrency,
    onEvent: (event) => renderer.event(event),
  });
  await renderer.done();
  for (const host of outcome.ready.values()) host.session.close();
  const deployed = outcome.results.filter((r) => r.status !== "failed");
  const ok = deployed.length === outcome.results.length || (args["allow-partial"] && deployed.length > 0);
  if (args.json) {
    process.stdout.write(JSON.stringify({ ok, file: inventory.file, ms: Math.round(performance.now() - started), hosts: outcome.results.map((r) => ({ ...r, ms: Math.round(r.ms) })) }) + "\n");
  } else {
    for (const r of outcome.results) if (r.status === "failed" && tty) process.stderr.write(`mnt: ${r.error}\n`);
    note(`${deployed.length} of ${outcome.results.length} hosts deployed in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  }
  if (ok) return ExitCode.ok;
  const refused = outcome.results.every((r) => r.status !== "failed" || outcome.checks.find((c) => c?.host.name === r.host)?.error?.code === "auth");
  return refused ? ExitCode.authRefused : ExitCode.unavailable;
}
