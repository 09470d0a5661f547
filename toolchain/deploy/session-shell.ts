// Runs a local program that reaches a host through a "remote shell" (rsync's `-e`) over mnt's own
// SSH session: no second OpenSSH login, so the host key was checked by mnt's rules, with mnt's
// user, keys, agent and jump hosts, and no second handshake is paid.
//
// The program is spawned with a Node.js IPC channel (fd 3), which it passes on to its children. As
// its remote shell it runs session-shell-bridge.cjs, which sends us the remote command and its own
// stdin and stdout (the program's pipes) as file descriptors. We run the command with
// `session.exec` and join the pipes to the channel: bytes go program ⇄ mnt ⇄ host with no process
// in between. End of input is passed on in both directions (EOF, not close), and the command's
// exit status goes back to the bridge, which exits with it, so the program sees it as from ssh.
//
//   bridge → mnt  { mnt: "session-shell-stdin", words: [host, ...command] }  + its stdin
//   bridge → mnt  { mnt: "session-shell-stdout" }                            + its stdout
//   mnt → bridge  { mnt: "session-shell-exit", code }                        then the bridge exits
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { HostShell, ShellChannel } from "../../core/connections/connection.ts";

/** The host name the program is given (`mnt-session:path`); the session decides where it goes. */
export const SESSION_HOST = "mnt-session";

/** The bridge, next to this module (a bundle must ship it next to itself under the same name). */
export const BRIDGE_FILE = fileURLToPath(new URL("./session-shell-bridge.cjs", import.meta.url));

/** What OpenSSH's ssh exits with when it, not the remote command, failed. */
const SSH_FAILED = 255;

/** How the remote command ended; null fields when it never ran. */
export interface RemoteCommandEnd {
  /** The command line as run on the host (the program's words joined with spaces, as ssh does). */
  command: string;
  code: number | null;
  signal: string | null;
  /** Its stderr, which ssh would have copied to the program's stderr. */
  stderr: string;
  /** Why it could not run or was cut off (the exec was refused, the connection closed). */
  error: string | null;
}

export interface SessionShellResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Null when the program never asked for its remote command (it failed before, or needs none). */
  remote: RemoteCommandEnd | null;
}

export interface SessionShellOptions {
  env?: NodeJS.ProcessEnv;
  /** Told the bytes sent to the host, as they are sent. */
  onSent?: (bytes: number) => void;
  /** Kills the program and closes the channel. */
  signal?: AbortSignal;
}

type BridgeMessage = { mnt: "session-shell-stdin"; words: string[] } | { mnt: "session-shell-stdout" };

/**
 * The remote-shell option's value, e.g. for `rsync -e`. rsync splits it into words itself (not a
 * shell): single quotes group, a doubled quote inside them is one quote.
 */
export function sessionShellCommand(): string {
  return [process.execPath, BRIDGE_FILE].map((word) => `'${word.replaceAll("'", "''")}'`).join(" ");
}

/** Runs `file args` (whose args name sessionShellCommand() and SESSION_HOST) to its end. */
export function runWithSessionShell(session: HostShell, file: string, args: string[], options: SessionShellOptions = {}): Promise<SessionShellResult> {
  if (!existsSync(BRIDGE_FILE)) return Promise.reject(new Error(`the session shell bridge is missing: ${BRIDGE_FILE}`));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe", "ipc"], env: bridgeEnv(options.env ?? process.env) });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));

    const pipes: { stdin?: Socket; stdout?: Socket; words?: string[] } = {};
    let relay: Relay | null = null;
    child.on("message", (message: BridgeMessage, handle: unknown) => {
      const socket = handle as Socket | undefined;
      if (!socket || relay) return void socket?.destroy();
      if (message?.mnt === "session-shell-stdin") [pipes.stdin, pipes.words] = [socket, message.words];
      else if (message?.mnt === "session-shell-stdout") pipes.stdout = socket;
      else return void socket.destroy();
      if (pipes.stdin && pipes.stdout && pipes.words) relay = new Relay(session, child, pipes.words, pipes.stdin, pipes.stdout, options.onSent);
    });

    const abort = () => {
      child.kill("SIGTERM");
      relay?.cut("aborted");
    };
    options.signal?.addEventListener("abort", abort, { once: true });
    if (options.signal?.aborted) abort();

    child.on("error", (error) => {
      options.signal?.removeEventListener("abort", abort);
      relay?.cut(error.message);
      reject(error);
    });
    // The program may end before the command does (killed, or it gave up on an error) and not wait
    // for its remote shell: the command is ended and the bridge told, or it would wait forever
    // (holding the program's stderr open, so 'close' below would never come).
    child.on("exit", () => {
      relay?.cut("the local program exited");
      if (!relay) [pipes.stdin, pipes.stdout].forEach((socket) => socket?.destroy());
    });
    // 'close': exited, and its stdout and stderr (which the bridge shares) are read to their end.
    child.on("close", async (code, signal) => {
      options.signal?.removeEventListener("abort", abort);
      const remote = relay ? await relay.ended : null;
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8"), remote });
    });
  });
}

/**
 * The program's environment, which the bridge inherits: no NODE_OPTIONS (the bridge must start
 * lean, without mnt's --import=tsx), and no IPC variables of a channel mnt itself may have been
 * given (spawn appends ours; a stale one listed first could win).
 */
function bridgeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _options, NODE_CHANNEL_FD: _fd, NODE_CHANNEL_SERIALIZATION_MODE: _mode, ...rest } = env;
  return rest;
}

/** One remote command joined to the program's pipes, from exec to the exit status told to the bridge. */
class Relay {
  readonly ended: Promise<RemoteCommandEnd>;
  private channel: ShellChannel | null = null;
  private cutReason: string | null = null;

  constructor(
    session: HostShell,
    private readonly child: ChildProcess,
    words: string[],
    private readonly input: Socket,
    private readonly output: Socket,
    onSent?: (bytes: number) => void,
  ) {
    // A pipe the program closed early only ends this relay; it must not throw in mnt.
    input.on("error", () => input.destroy());
    output.on("error", () => output.destroy());
    const [host, ...command] = words;
    const end: RemoteCommandEnd = { command: command.join(" "), code: null, signal: null, stderr: "", error: null };
    this.ended = (async () => {
      if (host !== SESSION_HOST || command.length === 0) {
        end.error = `the program asked for host ${JSON.stringify(host)}, not ${SESSION_HOST}`;
      } else {
        try {
          this.channel = await session.exec(end.command);
          if (this.cutReason) this.channel.close();
          await this.join(this.channel, end, onSent);
        } catch (error) {
          end.error = (error as Error).message;
        }
      }
      if (end.code === null && end.signal === null) end.error ??= this.cutReason ?? "the SSH channel closed before the command exited (connection lost?)";
      this.input.destroy();
      this.output.destroy();
      this.tellExit(end.code ?? SSH_FAILED);
      return end;
    })();
  }

  /** Ends the command early: its channel closes, and the relay finishes as after any close. */
  cut(reason: string): void {
    if (this.cutReason) return;
    this.cutReason = reason;
    this.channel?.close();
    this.input.destroy();
    this.output.destroy();
  }

  private async join(channel: ShellChannel, end: RemoteCommandEnd, onSent?: (bytes: number) => void): Promise<void> {
    const stderr: Buffer[] = [];
    channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    channel.on("error", (error: Error) => (end.error ??= error.message));
    channel.on("exit", (code: number | null, signal?: string) => {
      end.code = code;
      end.signal = signal ?? null;
    });
    if (onSent) this.input.on("data", (chunk: Buffer) => onSent(chunk.length));
    // pipe(): back-pressure both ways, and each side's end of input becomes the other's EOF
    // (the program's last byte → SSH EOF to the command; the command's EOF → shutdown to the program).
    this.input.pipe(channel);
    // Once the program's end is gone (or was cut before the channel opened), the rest of the
    // output is dropped: a channel that is not read never emits 'close'.
    if (this.output.destroyed) channel.resume();
    else {
      channel.pipe(this.output);
      this.output.once("close", () => channel.unpipe(this.output).resume());
    }
    await once(channel, "close");
    // As ssh does: the command's last output reaches the program before its pipes close.
    if (!this.output.destroyed && !this.output.writableFinished) await Promise.race([once(this.output, "finish"), once(this.output, "close")]);
    end.stderr = Buffer.concat(stderr).toString("utf8");
  }

  private tellExit(code: number): void {
    if (!this.child.connected) return;
    this.child.send({ mnt: "session-shell-exit", code }, (error: Error | null) => {
      // The program is gone already: nobody waits for this status.
      void error;
    });
  }
}
