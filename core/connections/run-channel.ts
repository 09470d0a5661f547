// A command run to its end on a ShellChannel, its output collected as text.
import { StringDecoder } from "node:string_decoder";
import type { CommandResult, ShellChannel } from "./connection.ts";

export function runToEnd(channel: ShellChannel, input?: Buffer | string): Promise<CommandResult> {
  return new Promise((resolve) => {
    // Decoded across chunks: a UTF-8 character cut between two reads arrives whole.
    const outText = new StringDecoder("utf8");
    const errText = new StringDecoder("utf8");
    let stdout = "";
    let stderr = "";
    channel.on("data", (chunk: Buffer) => (stdout += outText.write(chunk)));
    channel.stderr.on("data", (chunk: Buffer) => (stderr += errText.write(chunk)));
    let code: number | null = null;
    channel.on("exit", (exitCode: number | null) => (code = exitCode));
    // A write after the command is gone fails; the exit status says what happened.
    channel.on("error", () => {});
    channel.on("close", () => resolve({ code, stdout: stdout + outText.end(), stderr: stderr + errText.end() }));
    channel.end(input);
  });
}
