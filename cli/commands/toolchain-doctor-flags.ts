// The flags of `mnt toolchain doctor`: kept apart from the command itself so that `mnt --help` and every
// other command start without loading what this one needs.
import type { Argv } from "yargs";

export interface DoctorArgs {
  arch: string;
  json: boolean;
}

export function doctorBuilder(yargs: Argv): Argv<DoctorArgs> {
  return yargs
    .option("arch", { type: "string", default: "all", describe: "all, or a list such as x64,arm64" })
    .option("json", { type: "boolean", default: false, describe: "print one JSON object on stdout" })
    .example("$0 toolchain doctor", "every target: what is there, what is missing, the apt-get line") as unknown as Argv<DoctorArgs>;
}
