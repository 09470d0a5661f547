// The stack of an error a program threw, as its user needs it: the program's own frames, and none of
// mnt's. Between an op and the channel that delivered it sit the op runner, the slave's frame
// handling, the frame channel and node:events: frames from the agent bundle itself (its sources as
// its source map names them, or agent.cjs unmapped) are dropped, as are Node.js internals after the
// first program frame (before it they say where a built-in failed, e.g. inside node:fs). Built-ins
// such as `JSON.parse (<anonymous>)` stay when a program frame follows them.
import { fileURLToPath } from "node:url";
import { errorFromWire, errorToWire, type WireError } from "../core/protocol/codec.ts";

/** Says whether a file named in a stack frame belongs to mnt's own code. */
export type OwnFile = (file: string) => boolean;

/** The stack with mnt's frames dropped (see above); the message lines are kept as they are. */
export function programStack(stack: string, isOwn: OwnFile = ownFile): string {
  const lines = stack.split("\n");
  const firstFrame = lines.findIndex((line) => FRAME.test(line));
  if (firstFrame < 0) return stack;
  const frames = lines.slice(firstFrame).map((line) => ({ line, kind: frameKind(line, isOwn) }));
  const firstProgram = frames.findIndex((frame) => frame.kind === "program");
  let lastProgram = -1;
  frames.forEach((frame, i) => frame.kind === "program" && (lastProgram = i));
  const kept = frames.filter(({ kind }, i) => {
    switch (kind) {
      case "program":
        return true;
      case "own":
        return false;
      case "node":
        return i < firstProgram;
      case "builtin":
        return i < lastProgram;
    }
  });
  return [...lines.slice(0, firstFrame), ...kept.map((frame) => frame.line)].join("\n");
}

/** An error's wire form with the program's stack (and its causes', when they are Errors). The error itself is not changed. */
export function programErrorToWire(error: Error, isOwn: OwnFile = ownFile, depth = 0): WireError {
  const wire = errorToWire(error);
  if (wire.stack) wire.stack = programStack(wire.stack, isOwn);
  // A chain of causes is short; a cycle of them is not followed forever.
  if (wire.cause instanceof Error && depth < 8) wire.cause = errorFromWire(programErrorToWire(wire.cause, isOwn, depth + 1));
  return wire;
}

type FrameKind = "program" | "own" | "node" | "builtin";

const FRAME = /^\s+at /;

function frameKind(line: string, isOwn: OwnFile): FrameKind {
  const file = frameFile(line);
  if (file === null) return FRAME.test(line) ? "builtin" : "program";
  if (file.startsWith("node:") || file.startsWith("internal/")) return "node";
  return isOwn(file) ? "own" : "program";
}

/** The file a frame line names (`at f (file:1:2)`, `at file:1:2`), or null for a built-in (`<anonymous>`, `native`). */
function frameFile(line: string): string | null {
  const match = /\(([^()]+):\d+:\d+\)$/.exec(line) ?? /^\s+at (?:async )?([^\s()]+):\d+:\d+$/.exec(line);
  if (!match) return null;
  const file = match[1]!;
  return file.startsWith("file://") ? fileURLToPath(file) : file;
}

/**
 * mnt's own files, found from where this module itself runs: with source maps, the bundle's sources
 * (`<root>/remote-agent/…`, `<root>/core/…`, `<root>/node_modules/…`); without, the bundle file.
 */
function ownFiles(): OwnFile {
  const here = frameFile(new Error().stack?.split("\n").find((line) => FRAME.test(line)) ?? "");
  const suffix = "remote-agent/error-stack.ts";
  if (here?.replaceAll("\\", "/").endsWith(suffix)) {
    const root = here.slice(0, here.length - suffix.length);
    const dirs = ["remote-agent", "core", "node_modules"].map((dir) => root + dir);
    return (file) => dirs.some((dir) => file.startsWith(dir) && (file[dir.length] === "/" || file[dir.length] === "\\"));
  }
  return here ? (file) => file === here : () => false;
}

/**
 * Worked out at the first error, not at start-up: a stack made while the bundle loads would make
 * Node.js parse the bundle's source map then (tens of ms on every slave start).
 */
let ownFileTest: OwnFile | null = null;
function ownFile(file: string): boolean {
  ownFileTest ??= ownFiles();
  return ownFileTest(file);
}
