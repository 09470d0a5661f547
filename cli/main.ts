// The `mnt` command line.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { MntError } from "../core/errors.ts";
import { execBuilder, execCommand, type ExecArgs } from "./commands/exec.ts";
import { hostsCheckBuilder, hostsCheckCommand, type HostsCheckArgs } from "./commands/hosts-check.ts";
import { ConfigError } from "../core/hosts/inventory.ts";
import { ExitCode, exitCodeFor } from "./exit-codes.ts";

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
        exitCode = await execCommand(args as unknown as ExecArgs);
      },
    )
    .command("hosts", "check the hosts of an inventory", (y) =>
      y
        .command(
          "check <file>",
          "connect to every host and report what it offers (exit 0 when all are usable)",
          (c) => hostsCheckBuilder(c),
          async (args) => {
            exitCode = await hostsCheckCommand(args as unknown as HostsCheckArgs);
          },
        )
        .demandCommand(1, "name a hosts command, e.g. `mnt hosts check hosts.yaml`"),
    )
    .example("$0 exec examples/pi/pi.ts", "estimate π with one slave per core")
    .example("$0 exec examples/mandelbrot/mandelbrot.ts -- --out m.png", "render an image; args after -- go to main")
    .demandCommand(1, "name a command, e.g. `mnt exec program.ts`")
    .parserConfiguration({ "populate--": true })
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      throw new MntError("usage", message ?? "bad command line", "see `mnt --help`");
    })
    .help()
    .version()
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
