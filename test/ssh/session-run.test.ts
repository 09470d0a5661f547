// SshSession.run collects a command's stdout and stderr as text: a UTF-8 character that ssh2
// delivers cut across two data events must arrive whole (a fake ssh2 client cuts it on purpose).
import { EventEmitter } from "node:events";
import { expect } from "chai";
import { makeSession } from "../../core/connections/ssh/connect.ts";
import type { SshTarget } from "../../core/connections/ssh/resolve.ts";

/** An ssh2 Client stand-in whose exec channel emits `stdout` and `stderr` in the chunks given. */
function fakeClient(stdout: Buffer[], stderr: Buffer[]) {
  const client = new EventEmitter() as EventEmitter & { exec: unknown; end: () => void };
  client.exec = (_command: string, callback: (error: Error | undefined, channel: unknown) => void) => {
    const channel = new EventEmitter() as EventEmitter & { stderr: EventEmitter; end: (input?: unknown) => void };
    channel.stderr = new EventEmitter();
    channel.end = () =>
      setImmediate(() => {
        for (const chunk of stdout) channel.emit("data", chunk);
        for (const chunk of stderr) channel.stderr.emit("data", chunk);
        channel.emit("exit", 0);
        channel.emit("close");
      });
    callback(undefined, channel);
  };
  client.end = () => {};
  return client;
}

/** `text` as UTF-8 bytes cut in two inside its first multi-byte character. */
function cutInsideCharacter(text: string): Buffer[] {
  const bytes = Buffer.from(text, "utf8");
  const at = bytes.findIndex((byte) => byte >= 0x80) + 1;
  return [bytes.subarray(0, at), bytes.subarray(at)];
}

describe("SshSession.run", () => {
  it("stdout and stderr with a character cut across two chunks arrive whole (no U+FFFD)", async () => {
    const client = fakeClient(cutInsideCharacter("résumé ok\n"), cutInsideCharacter("rsync: échec 日本\n"));
    const session = makeSession(client as never, { hostname: "h" } as unknown as SshTarget, "known", "SHA256:x");
    const result = await session.run("true");
    expect(result).to.deep.equal({ code: 0, stdout: "résumé ok\n", stderr: "rsync: échec 日本\n" });
  });
});
