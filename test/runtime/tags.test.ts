// Ops that ask for host tags (`m.worker.x(input, { tags })`) run only on hosts with those tags
// (hosts.yaml `tags:`), with real local agents standing in for two hosts.
import { expect } from "chai";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalAgent, type LocalAgent } from "../../core/connections/local.ts";
import { MntError } from "../../core/errors.ts";
import { Runtime } from "../../core/runtime/runtime.ts";
import { bundleProgram } from "../../toolchain/build/bundle-program.ts";
import { agentBuildHash, agentBundle } from "../../toolchain/own-files.ts";
import { waitFor } from "../helpers/wait.ts";

interface Where {
  i: number;
  pid: number;
  version: number;
}

describe("ops with host tags (real local agents)", function () {
  this.timeout(60_000);
  const here = path.dirname(fileURLToPath(import.meta.url));
  let bundle: string;
  let runtime: Runtime;
  let agents: LocalAgent[];
  /** Slave pid → the host it runs on. */
  const hostOf = new Map<number, string>();

  before(async () => {
    bundle = (await bundleProgram(path.join(here, "tags", "program.ts"), path.join(os.tmpdir(), "mnt-test-programs"))).file;
  });

  beforeEach(async () => {
    runtime = new Runtime({ workerNames: ["where"], contextNames: ["setVersion"], expectedBuild: agentBuildHash() });
    runtime.onEvent((event) => {
      if (event.kind === "slave.up") hostOf.set(event.pid, event.host);
    });
    agents = [startLocalAgent(agentBundle), startLocalAgent(agentBundle)];
    await Promise.all([
      runtime.addAgent({ host: "gpu-box", connect: async () => agents[0]!, slots: 1, programPath: bundle, tags: ["gpu", "big-mem"] }),
      runtime.addAgent({ host: "plain", connect: async () => agents[1]!, slots: 2, programPath: bundle }),
    ]);
    // Every slave is up before ops are issued, so untagged ops demonstrably spread over both hosts.
    await waitFor(() => runtime.stats().slaves === 3, 20_000, "3 slaves up");
  });

  afterEach(async () => {
    runtime.close();
    await Promise.all(agents.map((agent) => agent.exited));
  });

  it("tagged ops run only on hosts with every tag; the others anywhere; context order holds for both", async () => {
    const pending: Array<Promise<{ tagged: boolean; where: Where; version: number }>> = [];
    for (let i = 0; i < 3000; i++) {
      if (i > 0 && i % 500 === 0) void runtime.issueContext(0, "setVersion", i / 500);
      const tagged = i % 3 === 0;
      const version = Math.floor(i / 500);
      const issued = runtime.issueWorker(0, "where", i, tagged ? { tags: i % 2 === 0 ? ["gpu"] : ["big-mem", "gpu"] } : undefined) as Promise<Where>;
      pending.push(issued.then((where) => ({ tagged, where, version })));
    }
    const results = await Promise.all(pending);
    const hostsUsed = { tagged: new Set<string>(), untagged: new Set<string>() };
    for (const { tagged, where, version } of results) {
      expect(where.version, `op ${where.i} ran at the context version it was issued at`).to.equal(version);
      (tagged ? hostsUsed.tagged : hostsUsed.untagged).add(hostOf.get(where.pid)!);
    }
    expect([...hostsUsed.tagged]).to.deep.equal(["gpu-box"]);
    expect([...hostsUsed.untagged].sort()).to.include("plain");
  });

  it("an op asking for tags no host in the inventory has fails at once, naming the tags", async () => {
    const error = await runtime.issueWorker(0, "where", 1, { tags: ["gpu", "tpu"] }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error).to.be.instanceOf(MntError);
    expect((error as MntError).code).to.equal("placement");
    expect(error!.message).to.match(/where asks for hosts tagged gpu, tpu, and no host in the inventory has all of them/);
    // The run goes on.
    expect(await runtime.issueWorker(0, "where", 2, { tags: ["gpu"] })).to.have.property("i", 2);
  });
});
