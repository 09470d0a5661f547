// The `mnt` command line.
import { readFileSync } from "node:fs";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { MntError } from "../core/errors.ts";
// Only the flags load up front; each command's code (esbuild, ssh2, the runtime…) is imported
// when that command runs, which keeps every start-up short.
import { execBuilder, type ExecArgs } from "./commands/exec-flags.ts";
import { buildBuilder, type BuildArgs } from "./commands/build-flags.ts";
import { deployBuilder, type DeployArgs } from "./commands/deploy-flags.ts";
import { doctorBuilder, type DoctorArgs } from "./commands/toolchain-doctor-flags.ts";
import { hostsCheckBuilder, type HostsCheckArgs } from "./commands/hosts-check-flags.ts";
import { traceRenderBuilder, type TraceRenderArgs } from "./commands/trace-render-flags.ts";
import { ConfigError } from "../core/errors.ts";
import { ExitCode, exitCodeFor } from "./exit-codes.ts";

// Read here, not left to yargs: yargs takes the package.json nearest the script that started node,
// which for an installed mnt (node_modules/.bin/mnt, <prefix>/bin/mnt) is the user's project or
// none ("unknown"). One folder up from cli/main.ts and from dist/cli.js alike.
const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  await yargs(argv)
    .scriptName("mnt")
    .usage("$0 <command>\n\nMarionette: run one TypeScript program as a master driving slave processes.")
    .command(
      "exec <program>",
      "build and run a program (no hosts: slaves on this machine)",
      (y) => execBuilder(y),
      async (args) => {
        exitCode = await (await import("./commands/exec.ts")).execCommand(args as unknown as ExecArgs);
      },
    )
    .command(
      "build <program>",
      "build a release per target: the program, the agent and native addons built for each arch",
      (y) => buildBuilder(y),
      async (args) => {
        exitCode = await (await import("./commands/build.ts")).buildCommand(args as unknown as BuildArgs);
      },
    )
    .command(
      "deploy <file> [program]",
      "send every host the release for its target (rsync over the SSH connection; SFTP without rsync)",
      (y) => deployBuilder(y),
      async (args) => {
        exitCode = await (await import("./commands/deploy.ts")).deployCommand(args as unknown as DeployArgs);
      },
    )
    .command("toolchain", "what this machine needs to build for each target", (y) =>
      y
        .command(
          "doctor",
          "per target: compilers, emulator and libraries found or missing, and the apt-get line for what is missing",
          (c) => doctorBuilder(c),
          async (args) => {
            exitCode = (await import("./commands/toolchain-doctor.ts")).doctorCommand(args as unknown as DoctorArgs);
          },
        )
        .demandCommand(1, "name a toolchain command, e.g. `mnt toolchain doctor`"),
    )
    .command("hosts", "check the hosts of an inventory", (y) =>
      y
        .command(
          "check <file>",
          "connect to every host and report what it offers (exit 0 when all are usable)",
          (c) => hostsCheckBuilder(c),
          async (args) => {
            exitCode = await (await import("./commands/hosts-check.ts")).hostsCheckCommand(args as unknown as HostsCheckArgs);
          },
        )
        .demandCommand(1, "name a hosts command, e.g. `mnt hosts check hosts.yaml`"),
    )
    .command("trace", "look at a trace written by `mnt exec --trace`", (y) =>
      y
        .command(
          "render <file>",
          "draw the trace as a PNG: a row per slave, ops coloured by name, losses marked, the queue on top",
          (c) => traceRenderBuilder(c),
          async (args) => {
            exitCode = (await import("./commands/trace-render.ts")).traceRenderCommand(args as unknown as TraceRenderArgs);
          },
        )
        .demandCommand(1, "name a trace command, e.g. `mnt trace render trace.json -o trace.png`"),
    )
    .example("$0 exec examples/pi/pi.ts", "estimate π with one slave per core")
    .example("$0 exec examples/mandelbrot/mandelbrot.ts -- --out m.png", "render an image; args after -- go to main")
    .example("$0 build job.ts --arch all", "a release for every target (native addons cross-compiled)")
    .example("$0 deploy hosts.yaml job.ts", "send each host its release")
    .example("$0 exec job.ts --hosts hosts.yaml", "build, deploy and run on the hosts")
    .demandCommand(1, "name a command, e.g. `mnt exec program.ts`")
    .parserConfiguration({ "populate--": true })
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      throw new MntError("usage", message ?? "bad command line", "see `mnt --help`");
    })
    .help()
    .version(VERSION)
    .parseAsync();
  return exitCode;
}

main(hideBin(process.argv)).then(
  // Every command returns an ExitCode, or main's own code, which runProgram checks is one (0–255).
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof MntError) {
      // A configuration file gets every problem listed, one line each.
      const lines = error instanceof ConfigError ? [error.message, ...error.errors.slice(1)] : [error.message];
      for (const line of lines) process.stderr.write(`mnt: ${line}\n`);
      process.exit(exitCodeFor(error));
    }
    process.stderr.write(`mnt: internal error: ${(error as Error)?.stack ?? error}\n`);
    process.exit(ExitCode.unavailable);
  },
);
