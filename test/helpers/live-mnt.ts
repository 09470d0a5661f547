// Runs the real `mnt` and lets a test react to what it prints while it runs (e.g. cut a host's
// link once the job is under way), then collect how it ended.
import { spawn, type ChildProcess } from "node:child_process";
import { mntBin, repoRoot, type MntRun } from "./mnt.ts";

export interface LiveMnt {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the match once stderr (from character `from` on) matches; rejects after `ms`. */
  waitForStderr(pattern: RegExp, ms: number, from?: number): Promise<{ match: RegExpExecArray; end: number }>;
  exited: Promise<MntRun>;
}

export function startMnt(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): LiveMnt {
  const child = spawn(process.execPath, [mntBin, ...args], { cwd: options.cwd ?? repoRoot, env: { ...process.env, CI: "true", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const wake of [...waiters]) wake();
  });
  const exited = new Promise<MntRun>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStderr(pattern, ms, from = 0) {
      return new Promise((resolve, reject) => {
        const global = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`);
        const check = () => {
          global.lastIndex = from;
          const match = global.exec(stderr);
          if (!match) return false;
          cleanup();
          resolve({ match, end: match.index + match[0].length });
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`mnt printed no ${pattern} within ${ms} ms; stderr so far:\n${stderr.slice(-3000)}`));
        }, ms);
        const onExit = () => {
          if (check()) return;
          cleanup();
          reject(new Error(`mnt exited before printing ${pattern}; stderr:\n${stderr.slice(-3000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          child.off("close", onExit);
        };
        const wake = () => void check();
        if (check()) return;
        waiters.add(wake);
        child.on("close", onExit);
      });
    },
  };
}
