// `mnt deploy hosts.yaml [program.ts]`: every host gets the release for its target. With a program,
// what is missing or stale is built first (cached); without one, the releases already built under
// --out are sent (a host whose target has none is told which `mnt build --arch` to run).
import type { DeployArgs } from "./deploy-flags.ts";
import { loadInventory } from "../../core/hosts/inventory.ts";
import { MntError } from "../../core/errors.ts";
import { deploy } from "../../toolchain/deploy/deploy.ts";
import { ExitCode } from "../exit-codes.ts";
import { terminalPassphrasePrompt } from "../passphrase.ts";
import { listrDeployRenderer, plainDeployRenderer } from "../deploy-report.ts";
import { releaseSource } from "../release-source.ts";

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
