// A command run to its end on a ShellChannel, its output collected as text.
import { StringDecoder } from "node:string_decoder";
import type { CommandResult, ShellChannel } from "./connection.ts";

/** How a command ended: its exit code (null: none came) or the signal that killed it, and its output. */
export interface CommandEnd extends CommandResult {
  signal: string | null;
}

export function runToEnd(channel: ShellChannel, input?: Buffer | string): Promise<CommandEnd> {
  return new Promise((resolve) => {
    // Decoded across chunks: a UTF-8 character cut between two reads arrives whole.
    const outText = new StringDecoder("utf8");
    const errText = new StringDecoder("utf8");
    let stdout = "";
    let stderr = "";
    channel.on("data", (chunk: Buffer) => (stdout += outText.write(chunk)));
    channel.stderr.on("data", (chunk: Buffer) => (stderr += errText.write(chunk)));
    let code: number | null = null;
    let signal: string | null = null;
    channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
      code = exitCode;
      signal = exitSignal ?? null;
    });
    // A write after the command is gone fails; the exit status says what happened.
    channel.on("error", () => {});
    channel.on("close", () => resolve({ code, signal, stdout: stdout + outText.end(), stderr: stderr + errText.end() }));
    channel.end(input);
  });
}
