"use strict";
// The "remote shell" a local program such as rsync runs (`rsync -e '<node> <this file>'`), so that
// its remote command goes through mnt's own SSH connection instead of a second OpenSSH login.
//
// The program runs it as `<this> <host> <command words…>` with a pipe on stdin and stdout. It
// opens no connection: it hands the command words and those two pipes (as file descriptors) to
// the mnt process that started the program, over the Node.js IPC channel the program inherited
// from mnt (NODE_CHANNEL_FD), so the bytes flow between the program and mnt with no copy here.
// mnt runs the command in an exec channel and, when it ends, sends its exit status back; this
// process exits with it, as ssh would, so the program sees the remote command's status.
//
// Plain CommonJS with no dependencies: mnt runs it with its own Node.js (process.execPath), from
// the source tree or copied next to a bundle. Messages: see session-shell.ts.
const net = require("node:net");

function fail(message) {
  process.stderr.write(`mnt session shell: ${message}\n`);
  process.exit(255);
}

// rsync ends its children with SIGUSR1 when it gives up; to Node.js that signal means "start the
// inspector" (it printed "Debugger listening on ws://…" into rsync's stderr). A listener replaces
// that: exit, as ssh would die of it. mnt ends the remote command when rsync exits.
for (const signal of ["SIGUSR1", "SIGUSR2"]) process.on(signal, () => process.exit(255));

if (typeof process.send !== "function") fail("no channel to mnt: this program is run by mnt only");
const words = process.argv.slice(2);
if (words.length < 2) fail("usage: session-shell-bridge.cjs HOST COMMAND...");

// readable:false: a socket made readable would start reading at once, and bytes read here would be
// lost to mnt. Sent with keepOpen false, the handles are closed here once mnt has them.
const stdin = new net.Socket({ fd: 0, readable: false, writable: false });
const stdout = new net.Socket({ fd: 1, readable: false, writable: false });
process.on("message", (message) => {
  if (message && message.mnt === "session-shell-exit") process.exit(message.code);
});
// mnt gone (or the program's copy of the channel closed): no status will come.
process.on("disconnect", () => fail("mnt closed the channel before the remote command ended"));
process.send({ mnt: "session-shell-stdin", words }, stdin, (error) => error && fail(`cannot hand stdin to mnt: ${error.message}`));
process.send({ mnt: "session-shell-stdout" }, stdout, (error) => error && fail(`cannot hand stdout to mnt: ${error.message}`));
