// Agents on remote hosts: the agent bundle and the program bundle are placed under the host's work
// folder at content-addressed paths (sent once over the same SSH connection), then the agent runs
// in an exec channel (no pty) whose stdin/stdout carry the frames and whose stderr lines are the
// agent's own messages. One SSH connection per agent: when it drops, the agent on the host sees
// its stdin close and exits with its slaves, and the runtime reconnects through `connect` again.
import { readFileSync } from "node:fs";
import path from "node:path";
import { quote } from "shell-quote";
import type { AgentConnection } from "../connection.ts";
import { LineSplitter } from "../../protocol/line-splitter.ts";
import { streamTransport } from "../../protocol/stream-transport.ts";
import { MntError } from "../../errors.ts";
import { connectSsh, type SshConnectOptions, type SshSession } from "./connect.ts";

export interface ShippedFile {
  /** The file on this machine. */
  local: string;
  /** Its path under the remote work folder, e.g. `agent/agent-<hash>.cjs` (content-addressed). */
  remote: string;
}

export interface RemoteAgentOptions {
  address: string;
  ssh: SshConnectOptions;
  /** The remote work folder; a leading `~/` is the remote user's home. */
  workDir: string;
  /** The shell command that runs Node.js there (the user's own words: not quoted). */
  node: string;
  agent: ShippedFile;
  program: ShippedFile;
  onStderrLine?: (line: string) => void;
  /** A session already open (e.g. by the host check) to use for the first connection. */
  firstSession?: SshSession;
}

/** How long the agent gets to exit after its stdin closed, before the SSH connection is cut. */
const EXIT_GRACE_MS = 2000;

/** A shell word for the work folder: `~/x` becomes "$HOME"/x so the remote shell expands it. */
export function remoteDirWord(dir: string): string {
  if (dir === "~") return '"$HOME"';
  if (dir.startsWith("~/")) return `"$HOME"/${quote([dir.slice(2)])}`;
  return quote([dir]);
}

export function sshAgentConnector(options: RemoteAgentOptions): () => Promise<AgentConnection> {
  let first = options.firstSession;
  return async () => {
    const session = first ?? (await connectSsh(options.address, options.ssh));
    first = undefined;
    try {
      await shipFiles(session, options);
      return await startAgent(session, options);
    } catch (error) {
      session.close();
      throw error instanceof MntError ? error : new MntError("infrastructure", `${options.ssh.label}: cannot start the agent: ${(error as Error).message}`);
    }
  };
}

/** Sends the files the host does not have yet (checked by path: the paths name the content). */
async function shipFiles(session: SshSession, options: RemoteAgentOptions): Promise<void> {
  const dir = remoteDirWord(options.workDir);
  const files = [options.agent, options.program];
  const folders = [...new Set(files.map((file) => path.posix.dirname(file.remote)))];
  const probe = `mkdir -p ${folders.map((folder) => `${dir}/${quote([folder])}`).join(" ")} && cd ${dir} && for f in ${quote(files.map((f) => f.remote))}; do [ -f "$f" ] || echo "$f"; done`;
  const missing = await session.run(probe);
  if (missing.code !== 0) {
    throw new MntError("infrastructure", `${options.ssh.label}: cannot use the work folder ${options.workDir}: ${firstLine(missing.stderr)}`, "check workDir in the hosts file and the free disk there");
  }
  const wanted = new Set(missing.stdout.split("\n").filter(Boolean));
  for (const file of files) {
    if (!wanted.has(file.remote)) continue;
    // Written under a temporary name and renamed: a half-sent file never has the final name.
    const temporary = `${file.remote}.partial-${process.pid}-${Date.now()}`;
    const sent = await session.run(`cd ${dir} && cat > ${quote([temporary])} && mv ${quote([temporary])} ${quote([file.remote])}`, readFileSync(file.local));
    if (sent.code !== 0) throw new MntError("infrastructure", `${options.ssh.label}: cannot write ${options.workDir}/${file.remote}: ${firstLine(sent.stderr)}`, "check the free disk there");
  }
}

async function startAgent(session: SshSession, options: RemoteAgentOptions): Promise<AgentConnection> {
  const command = `cd ${remoteDirWord(options.workDir)} && exec ${options.node} --enable-source-maps ${quote([options.agent.remote])}`;
  const channel = await session.exec(command);
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
      const timer = setTimeout(() => session.close(), EXIT_GRACE_MS);
      await closed;
      clearTimeout(timer);
      session.close();
    },
  };
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] || "no message";
}
