// Agents on this machine: `node agent.cjs` as a child whose pipes carry the frames.
import { startCommandAgent, type CommandAgent } from "./command.ts";
import type { AgentConnection } from "./connection.ts";

export interface LocalAgentOptions {
  env?: NodeJS.ProcessEnv;
  /** Lines the agent itself writes to stderr (slaves' output arrives as frames, not here). */
  onStderrLine?: (line: string) => void;
  /** Called with each agent process started (tests and progress displays use the pid). */
  onStart?: (pid: number) => void;
}

export type LocalAgent = CommandAgent;

export function startLocalAgent(agentFile: string, options: LocalAgentOptions = {}): LocalAgent {
  // An agent that has not left 2 s after its stdin closed is killed outright: it has no launcher
  // in between that would need a chance to clean up.
  return startCommandAgent([process.execPath, agentFile], { ...options, stopSignal: "SIGKILL" });
}

/** A reconnectable local host for the runtime: each call starts a fresh agent process. */
export function localConnector(agentFile: string, options: LocalAgentOptions = {}): () => Promise<AgentConnection> {
  return async () => startLocalAgent(agentFile, options);
}
