// The flags of `mnt hosts check`: kept apart from the command itself so that `mnt --help` and every
// other command start without loading what this one needs.
import type { Argv } from "yargs";

export interface HostsCheckArgs {
  file: string;
  json: boolean;
}

export function hostsCheckBuilder(yargs: Argv): Argv<HostsCheckArgs> {
  return yargs
    .positional("file", { type: "string", describe: "the hosts inventory", demandOption: true })
    .option("json", { type: "boolean", default: false, describe: "print one JSON object on stdout" })
    .example("$0 hosts check hosts.yaml", "a table of every host and what it offers") as unknown as Argv<HostsCheckArgs>;
}
