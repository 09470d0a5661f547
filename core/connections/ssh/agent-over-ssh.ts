// Agents on remote hosts, started from a release that is already there (putting it there is the
// deploy's job, toolchain/deploy/): the agent runs in an exec channel (no pty) on the host's one
// SSH connection, in the release folder, and its stdin/stdout carry the frames while its stderr
// lines are the agent's own messages. When the connection drops, the agent on the host sees its
// stdin close and exits with its slaves, and the runtime reconnects through `connect` again.
import { agentCommand, type AgentCommandOptions } from "../agent-command.ts";
import type { AgentConnection } from "../connection.ts";
import { LineSplitter } from "../../protocol/line-splitter.ts";
import { streamTransport } from "../../protocol/stream-transport.ts";
import { MntError } from "../../errors.ts";
import type { SshSession } from "./connect.ts";
import type { HostSession } from "./host-session.ts";

export interface RemoteAgentOptions extends AgentCommandOptions {
  session: HostSession;
  onStderrLine?: (line: string) => void;
}

/** How long the agent gets to exit after its stdin closed, before the SSH connection is cut. */
const EXIT_GRACE_MS = 2000;

export function sshAgentConnector(options: RemoteAgentOptions): () => Promise<AgentConnection> {
  return async () => {
    const session = await options.session.get();
    try {
      return await startAgent(options, session);
    } catch (error) {
      options.session.reset(session);
      throw error instanceof MntError ? error : new MntError("infrastructure", `${options.session.label}: cannot start the agent: ${(error as Error).message}`);
    }
  };
}

async function startAgent(options: RemoteAgentOptions, session: SshSession): Promise<AgentConnection> {
  const channel = await session.exec(agentCommand(options));
  const stderr = new LineSplitter((lines) => lines.forEach((line) => options.onStderrLine?.(line)));
  channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  channel.stderr.on("end", () => stderr.end());
  const closed = new Promise<void>((resolve) => channel.once("close", () => resolve()));
  // The connection going away ends the channel too: the runtime sees the transport close.
  session.onClose(() => channel.destroy());
  return {
    transport: streamTransport(channel, channel, () => channel.end()),
    async close() {
      channel.end();
      // An agent that does not leave when told is cut off with the whole connection (the next
      // user of the host opens a new one); one that leaves keeps the connection for the others.
      const timer = setTimeout(() => options.session.reset(session), EXIT_GRACE_MS);
      await closed;
      clearTimeout(timer);
    },
  };
}
