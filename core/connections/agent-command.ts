// The shell command that starts an agent on a host from its release folder, whatever reaches the
// host (an SSH exec channel, a launch command's `sh -c`).
import { quote } from "shell-quote";

export interface AgentCommandOptions {
  /** The remote work folder; a leading `~/` is the remote user's home. */
  workDir: string;
  /** The release folder relative to the work folder (`releases/<release-id>`): the agent's working directory. */
  release: string;
  /** The agent bundle, relative to the release folder. */
  agentFile: string;
  /** The shell command that runs Node.js there (the user's own words, or a quoted shipped one: not quoted again). */
  node: string;
}

/** A shell word for the work folder: `~/x` becomes "$HOME"/x so the remote shell expands it. */
export function remoteDirWord(dir: string): string {
  if (dir === "~") return '"$HOME"';
  if (dir.startsWith("~/")) return `"$HOME"/${quote([dir.slice(2)])}`;
  return quote([dir]);
}

/** `cd WORK/releases/<id> && exec NODE agent.cjs`, every path quoted. */
export function agentCommand(options: AgentCommandOptions): string {
  return `cd ${remoteDirWord(options.workDir)}/${quote([options.release])} && exec ${options.node} ${quote([options.agentFile])}`;
}
