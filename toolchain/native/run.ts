// Runs one command of the native build (npm, tar, an emulated node) and reports its output line by
// line. The caller decides what a failure means; this only says how the command ended.
import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Each line of stdout and stderr, as it comes (a compiler's progress, npm's notes). */
  onLine?: (line: string) => void;
  /** Whether stdout lines go to onLine too (default true; false when stdout is data, as npm's --json). */
  echoStdout?: boolean;
  /** Kill the command (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
}

export interface RunResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last lines of stderr (and stdout), for error messages. */
  tail: string[];
  timedOut: boolean;
}

const TAIL_LINES = 20;

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    let stdout = "";
    let timedOut = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, options.timeoutMs)
      : undefined;
    timer?.unref();

    const lines = (onText: (text: string) => void, echo: boolean) => {
      const decoder = new StringDecoder("utf8");
      let pending = "";
      const take = (text: string) => {
        onText(text);
        pending += text;
        const parts = pending.split("\n");
        pending = parts.pop()!;
        for (const line of parts) keep(line, echo);
      };
      const end = () => {
        take(decoder.end());
        if (pending) keep(pending, echo); // a last line without a newline
        pending = "";
      };
      return { data: (chunk: Buffer) => take(decoder.write(chunk)), end };
    };
    const keep = (line: string, echo: boolean) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      if (echo) options.onLine?.(line);
    };
    const out = lines((text) => (stdout += text), options.echoStdout ?? true);
    const err = lines(() => {}, true);
    child.stdout.on("data", out.data);
    child.stderr.on("data", err.data);
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      out.end();
      err.end();
      resolve({ code, signal, stdout, tail, timedOut });
    });
  });
}

/** The last non-empty lines of a command's output on one line, for an error message. */
export function lastLines(lines: readonly string[], count = 3): string {
  return lines.filter((line) => line.trim()).slice(-count).join(" | ");
}
