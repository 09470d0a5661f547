// The flags of `mnt deploy`: kept apart from the command itself so that `mnt --help` and every
// other command start without loading what this one needs.
import type { Argv } from "yargs";
import { DEFAULT_OUT_DIR } from "../../toolchain/build/out-dir.ts";

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
