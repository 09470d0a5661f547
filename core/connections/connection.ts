// What every way of reaching a host gives the rest of mnt. Two ways exist: SSH (ssh/, one ssh2
// connection per host) and a launch command (launch.ts: `docker exec -i box --`, `ip netns exec
// h1`, `srun … -w node`, whatever runs its arguments as a program elsewhere with stdio relayed).
// The probe, the deploy and the agents are written against these interfaces alone.
import type { Duplex, Readable } from "node:stream";
import type { Transport } from "../protocol/channel.ts";

/** A live connection to an agent: its frames, and how to end it for good. */
export interface AgentConnection {
  transport: Transport;
  /** Ends the connection and makes sure the agent process is gone (bounded wait). */
  close(): Promise<void>;
}

/**
 * A command running on a host: its stdout is read from the stream, its stdin written to it (end()
 * is its end of input). Emits `exit` (code, signal) when the command ended and `close` when the
 * channel is done and its output was read (a channel nobody reads never closes: resume() it).
 */
export interface ShellChannel extends Duplex {
  readonly stderr: Readable;
  /** Ends the command now; its streams close. */
  close(): void;
}

export interface CommandResult {
  /** Null: the channel closed without an exit status (the connection or the launcher went away). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs shell commands (`sh` syntax) on one host. */
export interface HostShell {
  exec(command: string): Promise<ShellChannel>;
  /** Runs a command to its end; `input` is written to its stdin. */
  run(command: string, input?: Buffer | string): Promise<CommandResult>;
  /** Told when the way to the host is gone as a whole (an SSH connection that dropped). */
  onClose(listener: (error?: Error) => void): void;
}

/** How mnt keeps reaching one host: the shell that is open, or a new one after a loss. */
export interface HostLink {
  readonly label: string;
  get(): Promise<HostShell>;
  /** Drops a shell that misbehaves (an agent that would not exit): the next get() makes another. */
  reset(shell: HostShell): void;
  /** Ends it for good; later get()s fail. */
  close(): void;
}
