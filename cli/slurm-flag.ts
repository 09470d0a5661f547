// `--slurm` takes an optional value that is itself options (`--slurm "-N 3 -p lab"`), which yargs
// would read as flags of mnt's own. Whether the word after `--slurm` is salloc's is decided from
// the command line before yargs parses it: a word starting with "-" that has spaces in it, or a
// short option that is not one of mnt's (-q, -h). Bare `--slurm` (inside an allocation) is
// followed by nothing, `--`, or another mnt flag. Kept apart: `mnt --help` loads this, not Slurm.
import type { Argv } from "yargs";
import { hideBin } from "yargs/helpers";

export function sallocWordsFollow(argv: readonly string[]): boolean {
  const at = argv.indexOf("--slurm");
  const end = argv.indexOf("--");
  if (at < 0 || (end >= 0 && end < at)) return false;
  const next = argv[at + 1];
  if (next === undefined || next === "--" || !next.startsWith("-")) return false;
  if (/\s/.test(next.trim())) return true;
  return !next.startsWith("--") && !["-q", "-h"].includes(next);
}

/**
 * The --slurm option's arity for this command line: when salloc's words follow, yargs takes the
 * next word whole. nargs alone will not take a word that starts with "-"; nargs-eats-options lets
 * it (only --slurm has nargs). A parser configuration replaces the one before it: main's one
 * setting, populate--, is restated.
 */
export function slurmOptionArity(yargs: Argv, argv: readonly string[] = hideBin(process.argv)): { nargs?: number } {
  if (!sallocWordsFollow(argv)) return {};
  yargs.parserConfiguration({ "populate--": true, "nargs-eats-options": true });
  return { nargs: 1 };
}
