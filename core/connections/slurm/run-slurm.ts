// Runs one Slurm client command (scontrol, srun for a check) to its end, output captured, never
// hanging: past its timeout it is killed and the result says so.
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { MntError } from "../../errors.ts";

export interface SlurmCommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunSlurmOptions {
  env: NodeJS.ProcessEnv;
  /** Bytes piped to its stdin (else stdin is empty). */
  input?: Readable;
  timeoutMs: number;
}

export function runSlurm(argv: readonly string[], options: RunSlurmOptions): Promise<SlurmCommandResult> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.stdin!.on("error", () => {});
    if (options.input) options.input.pipe(child.stdin!);
    else child.stdin!.end();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === "ENOENT" ? new MntError("infrastructure", `--slurm: \`${file}\` was not found`, "run mnt where Slurm's commands (srun, scontrol, salloc) are on PATH") : error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** The last line of a command's stderr that says something (Slurm prints its reason last). */
export function lastLine(text: string): string {
  return text.trim().split("\n").filter((line) => line.trim() !== "").at(-1)?.trim() ?? "";
}
