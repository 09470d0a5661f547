// Hosts reached through a launch command instead of SSH (hosts.yaml `launch:`): a command on this
// machine that runs its arguments as a program on the host with stdio relayed, e.g.
// `[docker, exec, -i, build-box, --]`, `[ip, netns, exec, h1]`, `[kubectl, exec, -i, pod, --]`.
// Every command mnt runs there (the probe, the deploy's scripts, rsync's server end, the agent) is
// `LAUNCH… sh -c COMMAND`: the words go as separate arguments, never through a shell here, so the
// launcher must pass them on as they are (ssh, which joins them into one remote command line,
// does not qualify: use an SSH host for that).
import { spawn, type ChildProcess } from "node:child_process";
import { Duplex, type Readable } from "node:stream";
import { agentCommand, type AgentCommandOptions } from "./agent-command.ts";
import { startCommandAgent } from "./command.ts";
import type { AgentConnection, CommandResult, HostLink, HostShell, ShellChannel } from "./connection.ts";
import { runToEnd } from "./run-channel.ts";
import { MntError } from "../errors.ts";

/** One host behind a launch command. Each command is a process of its own: there is no connection to lose. */
export class LaunchedHost implements HostLink, HostShell {
  private closed = false;
  private readonly running = new Set<ChildProcess>();

  constructor(
    readonly label: string,
    /** The command's words, e.g. ["docker", "exec", "-i", "box", "--"]. */
    readonly launch: readonly string[],
  ) {
    if (launch.length === 0) throw new Error(`${label}: empty launch command`);
  }

  /**
   * The argv that runs `command` (sh syntax) on the host, from the home folder as an SSH session
   * starts there: relative paths (rsync's, the work folder's) mean the same on both kinds of host.
   */
  argv(command: string): string[] {
    return [...this.launch, "sh", "-c", `cd 2>/dev/null; ${command}`];
  }

  get(): Promise<HostShell> {
    if (this.closed) return Promise.reject(new Error(`${this.label}: closed for good`));
    return Promise.resolve(this);
  }

  reset(): void {
    // Nothing shared to drop: the next command is a new process anyway.
  }

  /** Ends every command still running through the launcher. */
  close(): void {
    this.closed = true;
    for (const child of this.running) child.kill("SIGTERM");
  }

  onClose(): void {
    // Never closes as a whole; each command reports its own end.
  }

  exec(command: string): Promise<ShellChannel> {
    if (this.closed) return Promise.reject(new Error(`${this.label}: closed for good`));
    const [file, ...args] = this.argv(command);
    const child = spawn(file!, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
    return new Promise((resolve, reject) => {
      child.once("error", (error) => reject(launchError(this, error)));
      child.once("spawn", () => {
        this.running.add(child);
        child.once("close", () => this.running.delete(child));
        resolve(new ChildChannel(child));
      });
    });
  }

  async run(command: string, input?: Buffer | string): Promise<CommandResult> {
    return runToEnd(await this.exec(command), input);
  }
}

/** Why the launch command could not be started at all (not there, not executable). */
function launchError(host: LaunchedHost, error: NodeJS.ErrnoException): MntError {
  const what = `\`${host.launch[0]}\``;
  const reason = error.code === "ENOENT" ? `${what} was not found` : error.code === "EACCES" ? `${what} is not executable` : `${what} failed to start (${error.message})`;
  return new MntError("infrastructure", `${host.label}: cannot run its launch command: ${reason}`, "install it, or fix launch: in the hosts file");
}

/** A launched process as a ShellChannel: stdout is read from it, stdin written to it. */
class ChildChannel extends Duplex implements ShellChannel {
  readonly stderr: Readable;

  constructor(private readonly child: ChildProcess) {
    super({ allowHalfOpen: true });
    this.stderr = child.stderr!;
    const stdout = child.stdout!;
    stdout.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stdout.on("end", () => this.push(null));
    // A write after the command exited fails with EPIPE: the exit status tells what happened.
    child.stdin!.on("error", () => {});
    child.on("exit", (code, signal) => this.emit("exit", code, signal ?? undefined));
    // Exited and its pipes closed: our write side is done too, so the stream closes once its
    // output has been read (as an SSH channel does).
    child.on("close", () => {
      if (!this.writableEnded) this.end();
    });
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.child.stdin!.destroyed) return callback();
    this.child.stdin!.write(chunk, () => callback());
  }

  // The end of input is done only once the command has exited: 'close' (which waits for it) then
  // comes after 'exit', as on an SSH channel, and a reader of both sees the exit status.
  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin!.end();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return callback();
    this.child.once("exit", () => callback());
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
  }
}

export interface LaunchedAgentOptions extends AgentCommandOptions {
  host: LaunchedHost;
  onStderrLine?: (line: string) => void;
}

/**
 * Agents of a launched host: each connection is the launch command running the agent from its
 * release folder. The agent leaves when its stdin closes, which the launcher passes on; one that
 * does not within the grace period has the launcher signalled (SIGTERM, then SIGKILL).
 */
export function launchedAgentConnector(options: LaunchedAgentOptions): () => Promise<AgentConnection> {
  const argv = options.host.argv(agentCommand(options));
  return async () => startCommandAgent(argv, { onStderrLine: options.onStderrLine });
}
