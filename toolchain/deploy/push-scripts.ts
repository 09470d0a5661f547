// The shell commands an SFTP push runs beside its SFTP requests (one exec each): seeding the new
// folder from an older release on the host, hashing what is there, and asking the OS why a write
// fails (an SFTP server only answers "Failure"). Paths are quoted; the folder is a word from
// remoteDirWord (`~/x` → "$HOME"/x).
import { quote } from "shell-quote";
import { remoteDirWord } from "../../core/connections/agent-command.ts";

/**
 * Makes `dir` (not its parent) and, when it is empty and `seed` (relative to it, or absolute) is a
 * folder, fills it from `seed` in one `cp`: hard links (`cp -al`) or copies (`cp -a`). A folder
 * that already has files (a transfer that was cut short) is left as it is: it is mostly the new
 * release already. Prints `seeded` when it copied.
 */
export function seedScript(dir: string, seed: string, by: "hardlink" | "copy"): string {
  const s = quote([seed]);
  return [
    `mkdir -p ${remoteDirWord(dir)} && cd ${remoteDirWord(dir)} || exit 3`,
    `if [ -d ${s} ] && [ -z "$(ls -A . 2>/dev/null)" ]; then cp ${by === "hardlink" ? "-al" : "-a"} ${s}/. . && echo seeded; fi`,
  ].join("\n");
}

/** Checks the sha256 list on stdin in `dir`: prints `<path>: OK` for each file whose content matches. */
export function sameContentScript(dir: string): string {
  return `cd ${remoteDirWord(dir)} || exit 3\nsha256sum -c - 2>/dev/null\nexit 0`;
}

/** Tries to write one byte in `dir`, so the shell says why that fails (read-only, full, not there). */
export function writeProbeScript(dir: string): string {
  const probe = ".mnt-write-probe.$$";
  return `cd ${remoteDirWord(dir)} && printf x > ${probe} && rm -f ${probe}`;
}
