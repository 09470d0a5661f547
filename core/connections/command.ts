// Agents started by a command on this machine whose stdio reaches the agent: `node agent.cjs`
// itself (the local host), or a launcher that runs the agent elsewhere and relays its stdio
// (`docker exec -i box --`, `ip netns exec h1`, `srun -u … -w node`). The frames travel on the
// command's stdin/stdout; its stderr lines are the agent's (or the launcher's) own messages.
//
// The agent leaves when its stdin closes, so ending our end of the pipe is the way to stop it, and
// a master that dies (even by SIGKILL) closes the pipe too: no orphans, whatever the launcher.
import { spawn } from "node:child_process";
import type { AgentConnection } from "./connection.ts";
import { LineSplitter } from "../protocol/line-splitter.ts";
import { streamTransport } from "../protocol/stream-transport.ts";

export interface CommandAgentOptions {
  env?: NodeJS.ProcessEnv;
  /** Lines the command writes to stderr (the agent's own, or the launcher's). */
  onStderrLine?: (line: string) => void;
  /** Called with the command's pid once it started (tests and progress displays use it). */
  onStart?: (pid: number) => void;
  /** How long the command gets to exit after its stdin closed, before it is signalled (ms). */
  exitGraceMs?: number;
  /**
   * The signal sent after the grace period (then SIGKILL after another grace period). Only the
   * command's own pid is signalled, never its process group: a launcher may keep a helper child
   * whose job is to clean up after it (srun's shepherd kills the step when srun dies).
   */
  stopSignal?: NodeJS.Signals;
}

export interface CommandAgent extends AgentConnection {
  pid: number | undefined;
  /** Resolves when the command has exited. */
  exited: Promise<void>;
  /** Signals the command now (a lost host: do not wait for a launcher that may hang for minutes). */
  kill(signal?: NodeJS.Signals): void;
}

const DEFAULT_EXIT_GRACE_MS = 2000;

/** Runs `argv` (program and arguments, no shell) and speaks the protocol over its stdio. */
export function startCommandAgent(argv: readonly string[], options: CommandAgentOptions = {}): CommandAgent {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("startCommandAgent: empty command");
  // Its own process group: a Ctrl-C in the terminal goes to mnt alone, which then stops the run
  // cleanly (a launcher in mnt's group would be interrupted under it).
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env, detached: true });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stderr = new LineSplitter((lines) => lines.forEach((line) => options.onStderrLine?.(line)));
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stderr!.on("end", () => stderr.end());
  // A failed spawn (no such program) surfaces as a closed transport; the reason goes to stderr's listener.
  child.on("error", (error) => options.onStderrLine?.(`cannot start \`${file}\`: ${error.message}`));
  // Writes after the command exited fail with EPIPE; the transport reports the close from the read side.
  child.stdin!.on("error", () => {});
  if (child.pid !== undefined) options.onStart?.(child.pid);
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = (signal: NodeJS.Signals = "SIGKILL") => {
    if (running()) child.kill(signal);
  };
  const grace = options.exitGraceMs ?? DEFAULT_EXIT_GRACE_MS;
  return {
    transport: streamTransport(child.stdout!, child.stdin!),
    pid: child.pid,
    exited,
    kill,
    async close() {
      child.stdin!.end();
      const timers = [setTimeout(() => kill(options.stopSignal ?? "SIGTERM"), grace), setTimeout(() => kill("SIGKILL"), 2 * grace)];
      await exited;
      timers.forEach(clearTimeout);
    },
  };
}
