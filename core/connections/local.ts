// A connection to an agent on this machine: a child process whose pipes carry the frames.
import { spawn, type ChildProcess } from "node:child_process";
import type { Transport } from "../protocol/channel.ts";
import { streamTransport } from "../protocol/stream-transport.ts";

export interface LocalAgent {
  transport: Transport;
  process: ChildProcess;
  /** Lines the agent itself wrote to stderr. */
  onStderrLine(listener: (line: string) => void): void;
  /** Resolves when the agent process has exited. */
  exited: Promise<void>;
}

export function startLocalAgent(agentFile: string, env: NodeJS.ProcessEnv = process.env): LocalAgent {
  const child = spawn(process.execPath, ["--enable-source-maps", agentFile], { stdio: ["pipe", "pipe", "pipe"], env });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const listeners: Array<(line: string) => void> = [];
  let partial = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) for (const listener of listeners) listener(line);
  });
  // A failed spawn surfaces as a closed transport; the error text goes to the stderr listeners.
  child.on("error", (error) => {
    for (const listener of listeners) listener(`cannot start the agent: ${error.message}`);
  });
  return {
    transport: streamTransport(child.stdout!, child.stdin!),
    process: child,
    onStderrLine: (listener) => listeners.push(listener),
    exited,
  };
}
