// SshSession.run collects a command's stdout and stderr as text: a UTF-8 character that ssh2
// delivers cut across two data events must arrive whole (a fake ssh2 client cuts it on purpose).
// And it never loses the exit status: ssh2 emits `exit` while it parses the read that confirmed
// the exec, before the caller of exec() has listened (issue 10, seen with 20–30 lab hosts on 2
// cores; the fake client does what ssh2 does then, every time).
import { EventEmitter } from "node:events";
import { expect } from "chai";
import { makeSession } from "../../core/connections/ssh/connect.ts";
import type { SshTarget } from "../../core/connections/ssh/resolve.ts";

/** An ssh2 Client stand-in whose exec channel emits `stdout` and `stderr` in the chunks given. */
function fakeClient(stdout: Buffer[], stderr: Buffer[], exitInSameRead = false) {
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
    // ssh2 goes on parsing the same read: the command's exit status, before anyone awaited exec().
    if (exitInSameRead) {
      channel.emit("exit", 3);
      channel.end = () => setImmediate(() => channel.emit("close"));
    }
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

  it("an exit status ssh2 emitted in the read that confirmed the exec is still the result's code", async () => {
    const session = makeSession(fakeClient([], [], true) as never, { hostname: "h" } as unknown as SshTarget, "known", "SHA256:x");
    expect(await session.run("exit 3")).to.deep.equal({ code: 3, stdout: "", stderr: "" });
    const channel = await session.exec("exit 3");
    const late = await new Promise((resolve) => {
      channel.on("exit", (code: number) => resolve(code));
      channel.end();
    });
    expect(late, "a listener added after exec() resolved").to.equal(3);
  });
});
