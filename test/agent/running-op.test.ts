// The record of the op a slave is running, as the agent and a real slave process use it: the slave
// writes each op it starts into fd 5, the agent reads the last one after the process has gone.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { RUNNING_OP_ENV, RUNNING_OP_FD, RunningOpRecord } from "../../remote-agent/running-op.ts";

/** Runs a child that records `ids` with the slave's writer, then dies by SIGSEGV as a crashing op would. */
async function childRecording(ids: number[], withEnv = true): Promise<number | null | undefined> {
  const record = new RunningOpRecord();
  const script = `
    import { runningOpWriter } from ${JSON.stringify(new URL("../../remote-agent/running-op.ts", import.meta.url).pathname)};
    const write = runningOpWriter();
    for (const id of ${JSON.stringify(ids)}) write?.(id);
    process.kill(process.pid, "SIGSEGV");
  `;
  const child = spawn(process.execPath, ["--import=tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "inherit", "inherit", "ignore", "ignore", record.fd ?? "ignore"],
    env: { ...process.env, ...(withEnv ? { [RUNNING_OP_ENV]: String(RUNNING_OP_FD) } : {}) },
  });
  const [, signal] = (await once(child, "close")) as [number | null, string | null];
  expect(signal).to.equal("SIGSEGV");
  return record.readAndClose();
}

describe("agent: which op a slave was running when it died", function () {
  this.timeout(20_000);

  it("the last worker op it started", async () => {
    expect(await childRecording([3, 4, 70000])).to.equal(70000);
  });

  it("null when it was in a context op (0) or had started none", async () => {
    expect(await childRecording([5, 0])).to.equal(null);
    expect(await childRecording([])).to.equal(null);
  });

  it("a slave not told that fd 5 is the record writes nothing there", async () => {
    expect(await childRecording([9], false)).to.equal(null);
  });
});
