// The flags of `mnt exec`: kept apart from the command itself so that `mnt --help` and every
// other command start without loading what this one needs.
import type { Argv } from "yargs";
import { slurmOptionArity } from "../slurm-flag.ts";

export interface ExecArgs {
  program: string;
  slots?: number;
  hosts?: string;
  /** "" inside an allocation; else salloc's options. */
  slurm?: string;
  "require-all": boolean;
  deploy: boolean;
  out?: string;
  "op-timeout"?: number;
  "slave-timeout"?: number;
  "start-timeout"?: number;
  "agent-timeout"?: number;
  "wait-for-hosts"?: number;
  "poison-kills"?: number;
  json: boolean;
  quiet: boolean;
  trace?: string;
  joblog?: string;
  "--"?: Array<string | number>;
  _: Array<string | number>;
}

export function execBuilder(yargs: Argv): Argv<ExecArgs> {
  return yargs
    .positional("program", { type: "string", describe: "the program (a TypeScript or JavaScript module)", demandOption: true })
    .option("hosts", { type: "string", describe: "run the slaves on the hosts of this inventory (see hosts.example.yaml), over SSH" })
    .option("slurm", {
      type: "string",
      // `--slurm "-N 3 -p lab"`: the quoted options are one value, not mnt's flags (see slurm-flag.ts).
      ...slurmOptionArity(yargs),
      describe: 'run one agent per node of a Slurm allocation through srun: the one mnt is in (salloc, sbatch), or with salloc options ("-N 3 -p batch") one it asks for and gives back at the end',
    })
    .option("require-all", { type: "boolean", default: false, describe: "with --hosts: fail unless every host is usable (default: run on those that are)" })
    .option("deploy", { type: "boolean", default: true, describe: "with --hosts: build and deploy what is missing or stale first (--no-deploy: refuse hosts whose release is not in place)" })
    .option("out", { type: "string", describe: "the build folder (default: one per program in mnt's cache)" })
    .option("slots", { type: "number", describe: "slaves to run on this machine (default: its core count)" })
    .option("op-timeout", { type: "number", group: "Recovery:", describe: "default timeout of every worker op, ms (a slave stuck in it is then killed and replaced) [default: none]" })
    .option("slave-timeout", { type: "number", group: "Recovery:", describe: "a running slave with no heartbeat for this long (stopped, frozen) is killed and replaced, ms [default: 5000]" })
    .option("start-timeout", {
      type: "number",
      group: "Recovery:",
      // The default is RUNTIME_DEFAULTS.startTimeoutMs (not imported: --help loads nothing of the runtime).
      describe:
        "a slave not ready this long after it was started (loading Node.js, the program, its init) failed to start; 3 in a row set its host aside. Also the wait for an agent's hello. Raised for a host that starts slowly (its agent took over 1 s), ms [default: 60000]",
    })
    .option("agent-timeout", { type: "number", group: "Recovery:", describe: "an agent with no heartbeat for this long is lost and reconnected, ms [default: 10000]" })
    .option("wait-for-hosts", { type: "number", group: "Recovery:", describe: "with no host left up, wait this long for one to come back before failing, ms [default: 30000]" })
    .option("poison-kills", { type: "number", group: "Recovery:", describe: "an op whose runs killed this many slaves fails instead of running again [default: 3]" })
    .option("json", { type: "boolean", default: false, describe: "print one JSON summary on stdout at the end" })
    .option("quiet", { type: "boolean", default: false, alias: "q", describe: "no narration, only remote output and errors" })
    .option("trace", { type: "string", requiresArg: true, group: "Records:", describe: "write the run as a Chrome trace (open it in ui.perfetto.dev): one track per slave, every op run, context op, loss" })
    .option("joblog", { type: "string", requiresArg: true, group: "Records:", describe: "write one JSON line per settled worker op (id, name, host:slot, attempt, start, service and wait µs, ok/error)" })
    .example("$0 exec examples/pi/pi.ts", "estimate π on local slaves (one per core)")
    .example("$0 exec examples/pi/pi.ts --slots 4 -- --batches 128", "4 slaves; arguments after -- go to main")
    .example("$0 exec job.ts --json > summary.json", "machine-readable summary")
    .example('$0 exec job.ts --slurm "-N 4 -p batch"', "on 4 Slurm nodes (salloc); inside salloc or sbatch: --slurm alone")
    .example("$0 exec job.ts --trace trace.json --joblog ops.jsonl", "a timeline for ui.perfetto.dev and a line per op") as unknown as Argv<ExecArgs>;
}
