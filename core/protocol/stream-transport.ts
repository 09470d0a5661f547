// Adapts a pair of Node.js streams (a child's pipes, an ssh2 channel, a socket) to a Transport.
import type { Readable, Writable } from "node:stream";
import type { Transport } from "./channel.ts";

export function streamTransport(input: Readable, output: Writable, end: () => void = () => output.end()): Transport {
  let closed = false;
  const closeListeners: Array<(error?: Error) => void> = [];
  const close = (error?: Error) => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener(error);
  };
  input.on("end", () => close());
  input.on("close", () => close());
  input.on("error", (error) => close(error));
  // A peer that vanished makes writes fail with EPIPE; the read side reports the close.
  output.on("error", (error) => close(error));
  return {
    write: (bytes) => (closed ? false : output.write(bytes)),
    onData: (listener) => input.on("data", listener),
    onDrain: (listener) => output.on("drain", listener),
    onClose: (listener) => closeListeners.push(listener),
    close: () => {
      end();
      close();
    },
  };
}
