// The flags of `mnt build`: kept apart from the command itself so that `mnt --help` and every
// other command start without loading what this one needs.
import type { Argv } from "yargs";
import { DEFAULT_OUT_DIR } from "../../toolchain/build/out-dir.ts";

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
