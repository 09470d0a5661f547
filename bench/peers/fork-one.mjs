// Peer of the one-op benchmark: a bare `node` that forks one child, sends it one message, waits
// for the answer and exits: the least a run with one op on another process can cost.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

if (process.argv[2] === "child") {
  process.on("message", (message) => process.send(message, () => process.disconnect()));
} else {
  const child = fork(fileURLToPath(import.meta.url), ["child"], { execArgv: [] });
  child.on("message", () => child.disconnect());
  child.send(1);
}
