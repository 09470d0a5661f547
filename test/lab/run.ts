// Running the lab's commands: by absolute path (requireLabTools resolves them), output captured,
// never hanging (a timeout SIGKILLs the command and resolves with code null).
import { spawn, spawnSync } from "node:child_process";

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed (default: stdin is /dev/null). */
  input?: string;
  /** SIGKILL the command after this long (default 30 s); the result then has code null. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function run(file: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    if (options.input !== undefined) child.stdin!.end(options.input);
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    timer.unref();
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[lab: ${file} ${args.join(" ")} killed after ${timeoutMs} ms]`;
      resolve({ code: timedOut ? null : code, stdout, stderr });
    });
  });
}

/** Like run, but a non-zero exit is an Error naming the command and its stderr. */
export async function runChecked(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new Error(`${[file, ...args].join(" ")} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** For the synchronous teardown at process exit: errors are ignored (best effort). */
export function runSyncQuiet(file: string, args: string[]): void {
  spawnSync(file, args, { stdio: "ignore", timeout: 10_000 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
