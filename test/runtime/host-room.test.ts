// The master Runtime against a fake agent whose hello reports little free memory: an op whose input
// the host cannot hold is never sent there (the agent sees no Op frame for it) and fails with one
// placement error naming the host, the input and its size against the host's free memory; a small
// op beside it runs. (A real host cannot be made short of memory here; the hello is the master's
// only source, so a fake one exercises the same path.)
import { expect } from "chai";
import { decode, encode } from "../../core/protocol/codec.ts";
import { FrameChannel } from "../../core/protocol/channel.ts";
import { FrameType } from "../../core/protocol/frame.ts";
import { MEMORY_RESERVE_BYTES } from "../../core/protocol/host-room.ts";
import { PROTOCOL_VERSION, type Hello, type SlaveReady } from "../../core/protocol/messages.ts";
import { decodeOp, encodeResultPayload } from "../../core/protocol/op-frames.ts";
import { MntError } from "../../core/errors.ts";
import { Runtime } from "../../core/runtime/runtime.ts";
import { memoryTransportPair } from "../protocol/memory-transport.ts";

const HOST = "tiny";
const MiB = 1024 ** 2;

describe("runtime: a host with little free memory (fake agent)", () => {
  it("an input its free memory cannot hold twice is not sent and fails naming host, input and size; a small op runs", async () => {
    const runtime = new Runtime({ workerNames: ["echo"], contextNames: [], expectedBuild: null, maxAgentFailures: 1 });
    const [masterEnd, agentEnd] = memoryTransportPair();
    const agent = new FrameChannel(agentEnd, { peer: "master" });
    const opsSeen: number[] = [];
    agent.onFrame((frame) => {
      if (frame.type === FrameType.Spawn) {
        const ready: SlaveReady = { pid: 4243, worker: ["echo"], context: [] };
        agent.send(FrameType.SlaveReady, frame.id, 0, encode(ready));
      } else if (frame.type === FrameType.Op) {
        const { input } = decodeOp(frame.payload);
        opsSeen.push(input.length);
        agent.send(FrameType.Result, frame.slave, frame.id, encodeResultPayload(5, encode((decode(input) as Uint8Array).length)));
      }
      agent.flush();
    });
    // 3 MiB to spare above the reserve: a 2 MiB input needs twice that.
    const hello: Hello = { protocol: PROTOCOL_VERSION, build: "0123456789ab", arch: "x64", platform: "linux", node: "20.19.0", napi: "9", hostname: HOST, cores: 1, pid: 4242, byteOrder: "LE", wordBits: 64, maxBufferBytes: 2 ** 32, freeMemoryBytes: MEMORY_RESERVE_BYTES + 3 * MiB, startupMs: 100 };
    agent.send(FrameType.Hello, 0, 0, encode(hello));
    agent.flush();
    try {
      await runtime.addAgent({ host: HOST, connect: async () => ({ transport: masterEnd, close: async () => masterEnd.close() }), slots: 1, programPath: "/srv/program.js" });
      const large = runtime.issueWorker(0, "echo", new Uint8Array(2 * MiB), undefined).then(
        () => null,
        (error: Error) => error,
      );
      const small = runtime.issueWorker(0, "echo", new Uint8Array(1000), undefined);
      expect(await small).to.equal(1000);
      const error = await large;
      expect(error).to.be.instanceOf(MntError);
      expect((error as MntError).code).to.equal("placement");
      expect((error as MntError).message.split("\n")[0]).to.equal(
        "op `echo` #1 can run on no host: its input is 2 MiB × 2 copies = 4 MiB, larger than the 3 MiB of free memory there (67 MiB less 64 MiB kept for the processes) on tiny (run it with a host that can hold the value (64-bit, with more free memory), or make the value smaller)",
      );
      expect(opsSeen, "only the small op reached the agent").to.have.length(1);
      expect(runtime.stats().workerFailed).to.equal(1);
    } finally {
      runtime.close();
    }
  });
});
