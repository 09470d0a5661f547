// Agents on this machine: child processes whose pipes carry the frames.
import { spawn } from "node:child_process";
import type { AgentConnection } from "./connection.ts";
import { LineSplitter } from "../protocol/line-splitter.ts";
import { streamTransport } from "../protocol/stream-transport.ts";

export interface LocalAgentOptions {
  env?: NodeJS.ProcessEnv;
  /** Lines the agent itself writes to stderr (slaves' output arrives as frames, not here). */
  onStderrLine?: (line: string) => void;
  /** Called with each agent process started (tests and progress displays use the pid). */
  onStart?: (pid: number) => void;
}

export interface LocalAgent extends AgentConnection {
  pid: number | undefined;
  /** Resolves when the agent process has exited. */
  exited: Promise<void>;
}

/** How long an agent gets to exit after its stdin closed, before SIGKILL. */
const EXIT_GRACE_MS = 2000;

export function startLocalAgent(agentFile: string, options: LocalAgentOptions = {}): LocalAgent {
  // Its own process group: a Ctrl-C in the terminal goes to mnt alone, which then stops the run
  // cleanly; the agent still leaves when mnt goes away, because its stdin closes.
  const child = spawn(process.execPath, [agentFile], { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env, detached: true });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stderr = new LineSplitter((lines) => lines.forEach((line) => options.onStderrLine?.(line)));
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stderr!.on("end", () => stderr.end());
  // A failed spawn surfaces as a closed transport; the reason goes to the stderr listener.
  child.on("error", (error) => options.onStderrLine?.(`cannot start the agent: ${error.message}`));
  if (child.pid !== undefined) options.onStart?.(child.pid);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    transport: streamTransport(child.stdout!, child.stdin!),
    pid: child.pid,
    exited,
    async close() {
      child.stdin!.end();
      const timer = setTimeout(() => running() && child.kill("SIGKILL"), EXIT_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A reconnectable local host for the runtime: each call starts a fresh agent process. */
export function localConnector(agentFile: string, options: LocalAgentOptions = {}): () => Promise<AgentConnection> {
  return async () => startLocalAgent(agentFile, options);
}
