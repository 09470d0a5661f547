// A slave: a child of the agent that loads the program bundle, holds one context and runs ops
// strictly one at a time, in the order they arrive (op-runner.ts). Frames travel on fd 3, so
// whatever user code prints on stdout/stderr can never corrupt the channel.
import { constants as bufferConstants } from "node:buffer";
import { errorFromThrown } from "../core/errors.ts";
import { decode, encode } from "../core/protocol/codec.ts";
import { FrameChannel, type IncomingFrame } from "../core/protocol/channel.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, FLAG_ERROR, FrameError, FrameType } from "../core/protocol/frame.ts";
import { encodeSharedGet } from "../core/protocol/shared-get.ts";
import type { SharedFree, SharedVersion, SlaveReady } from "../core/protocol/messages.ts";
import { programErrorToWire } from "./error-stack.ts";
import { startLifeline } from "./lifeline.ts";
import { runningOpWriter } from "./running-op.ts";
import { OpRunner } from "./op-runner.ts";
import { loadProgram, programOps, type ProgramOps } from "./program-loader.ts";
import { SharedReader } from "./shared-reader.ts";
import { slabTransport } from "./slab-socket.ts";

/** The agent reads heartbeats from this fd (see lifeline.ts); frames travel on fd 3. */
export const LIFELINE_FD = 4;

export async function runSlave(): Promise<void> {
  const slaveId = Number(process.env.MNT_SLAVE_ID);
  const slot = Number(process.env.MNT_SLOT);
  startLifeline(LIFELINE_FD, Number(process.env.MNT_SLAVE_HEARTBEAT_MS) || 500);
  // Shared data is placed piece by piece into one buffer of its announced size (shared-reader.ts).
  // An op's input may be as large as this Node.js can allocate (the master sends none larger: its
  // hello said so), past the 1 GiB default for one message.
  const largest = Math.max(bufferConstants.MAX_LENGTH, DEFAULT_MAX_MESSAGE_BYTES);
  const channel = new FrameChannel(slabTransport(3), { peer: "agent", unjoined: [FrameType.SharedData], maxMessageBytes: largest, maxHeldBytes: largest + DEFAULT_MAX_MESSAGE_BYTES });
  // The agent closed the channel (a clean stop) or went away: exit once what user code printed has
  // been written out (process.exit would drop output still queued on the stdout/stderr pipes).
  // Frames that make no sense are said on stderr first: the agent reports its tail with the exit.
  channel.onClose((error) => {
    if (error instanceof FrameError && error.corrupt) process.stderr.write(`slave: ${error.message}\n`);
    setTimeout(() => process.exit(0), 2000).unref();
    process.stdout.write("", () => process.stderr.write("", () => process.exit(0)));
  });

  // Frames that arrive while the program loads wait for it.
  const early: IncomingFrame[] = [];
  let handle: (frame: IncomingFrame) => void = (frame) => early.push(frame);
  channel.onFrame((frame) => handle(frame));

  let ops: ProgramOps;
  let context: unknown;
  try {
    const program = await loadProgram(process.env.MNT_PROGRAM!);
    ops = programOps(program);
    context = await program.init();
  } catch (error) {
    channel.send(FrameType.SlaveReady, slaveId, 0, encode(programErrorToWire(errorFromThrown(error, "init"))), FLAG_ERROR);
    channel.flush();
    setTimeout(() => process.exit(1), 100);
    return;
  }

  const ready: SlaveReady = { pid: process.pid, worker: ops.workerNames, context: ops.contextNames };
  channel.send(FrameType.SlaveReady, slaveId, 0, encode(ready));

  const shared = new SharedReader({
    request: (request, hash, size) => {
      channel.send(FrameType.SharedGet, slaveId, request, encodeSharedGet(hash, size));
      channel.flush();
    },
  });
  const runner = new OpRunner({
    ops,
    context,
    slave: { id: slaveId, slot, host: process.env.MNT_HOST ?? "", arch: process.arch, pid: process.pid },
    shared: (epoch) => shared.at(epoch),
    out: {
      send: (type, id, payload, flags) => channel.send(type, slaveId, id, payload, flags),
      flush: () => channel.flush(),
    },
    starting: runningOpWriter(),
  });

  handle = (frame) => {
    switch (frame.type) {
      case FrameType.Op:
        return runner.addOp(frame.id, frame.payload);
      case FrameType.Context:
        return runner.addContext(frame.id, frame.payload);
      case FrameType.Cancel:
        return runner.cancel(frame.id);
      case FrameType.SharedVersion:
        return shared.addVersion(decode(frame.payload) as SharedVersion);
      case FrameType.SharedData:
        return shared.receive(frame.id, frame.flags, frame.payload);
      case FrameType.SharedFree:
        return shared.free(decode(frame.payload) as SharedFree);
      default:
        return;
    }
  };
  for (const frame of early.splice(0)) handle(frame);
}
