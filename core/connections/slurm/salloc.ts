// An allocation mnt asks for itself (`--slurm "-N 3 -p batch"`) and gives back however mnt ends.
//
// salloc runs a holder command on this machine for as long as the allocation should live, and
// relinquishes the allocation (ending its steps) when that command exits. The holder prints the
// allocation's environment, then reads its stdin, which is a pipe from mnt: when mnt closes it
// (the end of the run, Ctrl-C) or dies (even by SIGKILL, the kernel closes it), the holder sees
// EOF and exits, and salloc gives the allocation back. salloc runs in a session of its own, so a
// Ctrl-C in the terminal or a kill of mnt's process group does not take it down before it has
// done that, and with SIGPIPE ignored, so writing its last messages to a dead mnt cannot kill it
// either.
import { spawn, type ChildProcess } from "node:child_process";
import { MntError } from "../../errors.ts";
import { LineSplitter } from "../../protocol/line-splitter.ts";
import { runSlurm } from "./run-slurm.ts";

const READY = "mnt-allocation-ready";
// Prints the allocation's environment (NUL-separated, as `env -0`), then waits for EOF on stdin.
const HOLDER = `env -0; printf '%s\\0' ${READY}; exec cat > /dev/null`;

export interface HeldAllocation {
  jobId: string;
  /** The allocation shell's environment (SLURM_JOB_ID, SLURM_JOB_NODELIST, …): what srun runs with. */
  env: NodeJS.ProcessEnv;
  /** Resolves when salloc has ended (the allocation is given back, or was revoked). */
  ended: Promise<void>;
  /** Gives the allocation back; resolves when salloc has exited (bounded: scancel as a last resort). */
  release(): Promise<void>;
}

export interface RequestOptions {
  env: NodeJS.ProcessEnv;
  /** salloc's own messages (pending, granted, node failures), one line each. */
  onLine: (line: string) => void;
}

/** The salloc command line: the user's options, --no-kill, the holder. */
export function sallocArgv(words: readonly string[]): string[] {
  // --no-kill: a node that fails leaves the rest of the allocation running (Slurm's default ends
  // the whole job), so mnt can finish on the others as it does after losing any host.
  return ["salloc", "--no-kill", ...words, "sh", "-c", HOLDER];
}

export function requestAllocation(words: readonly string[], options: RequestOptions): { held: Promise<HeldAllocation>; cancel: () => void } {
  const argv = sallocArgv(words);
  const child = spawn("sh", ["-c", 'trap "" PIPE; exec "$@"', "sh", ...argv], { env: options.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
  child.stdin!.on("error", () => {});
  const ended = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const errors: string[] = [];
  let granted = false;
  const stderr = new LineSplitter((lines) => {
    for (const line of lines) {
      // Before the grant, salloc's last error is the run's one error line; after, errors are news (a node failed).
      if (!granted && /^salloc: error: /.test(line)) errors.push(line.replace(/^salloc: error: /, ""));
      else options.onLine(line);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stderr!.on("end", () => stderr.end());
  const held = new Promise<HeldAllocation>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let done = false;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const end = all.indexOf(`\0${READY}\0`);
      if (end < 0 && !all.subarray(0, READY.length + 1).equals(Buffer.from(`${READY}\0`))) return;
      done = true;
      granted = true;
      child.stdout!.off("data", onData);
      child.stdout!.resume();
      const env = parseEnv(all.subarray(0, Math.max(end, 0)));
      const jobId = env.SLURM_JOB_ID ?? "";
      resolve({ jobId, env, ended, release: () => release(child, jobId, env, ended) });
    };
    child.stdout!.on("data", onData);
    child.once("error", (error: NodeJS.ErrnoException) => reject(error));
    void ended.then(() => {
      if (done) return;
      const why = errors.at(-1) ?? `salloc exited (${child.exitCode ?? child.signalCode}) without an allocation`;
      reject(new MntError("infrastructure", `--slurm: salloc ${words.join(" ")}: ${why}`, "fix the salloc options given to --slurm (`sinfo` lists partitions and nodes)"));
    });
  });
  held.catch(() => {});
  // Before the grant: salloc gives up its pending request when signalled.
  const cancel = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  return { held, cancel };
}

function parseEnv(bytes: Buffer): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of bytes.toString("utf8").split("\0")) {
    const at = entry.indexOf("=");
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}

const RELEASE_WAIT_MS = 10_000;

async function release(child: ChildProcess, jobId: string, env: NodeJS.ProcessEnv, ended: Promise<void>): Promise<void> {
  child.stdin!.end();
  const within = (ms: number) => Promise.race([ended.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
  if (await within(RELEASE_WAIT_MS)) return;
  child.kill("SIGTERM");
  if (await within(RELEASE_WAIT_MS / 2)) return;
  child.kill("SIGKILL");
  // salloc could not give it back itself: ask the controller directly.
  if (jobId) await runSlurm(["scancel", jobId], { env, timeoutMs: RELEASE_WAIT_MS }).catch(() => {});
}
