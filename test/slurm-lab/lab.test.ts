// The Slurm lab's own smoke test: a real controller and 3 real nodes, each a machine of its own
// name with its own /tmp (and this machine's other folders, like an NFS home); a node can crash and
// come back; nothing the lab made survives stop(), a test process that exits, or (after the next
// start's sweep) one that was SIGKILLed.
import { spawn, spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../helpers/mnt.ts";
import { labLeftovers, requireSlurmTools, startSlurmLab, type SlurmLab } from "./lab.ts";
import { nodeProcesses } from "./teardown.ts";

/** Runs lab-process.ts; resolves once it printed "up", with the process. */
function labProcess(mode: "exit" | "wait"): Promise<{ exited: Promise<number | null>; kill: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "test", "slurm-lab", "lab-process.ts"), mode], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("up")) resolve({ exited, kill: () => child.kill("SIGKILL") });
    });
    void exited.then((code) => reject(new Error(`lab-process.ts ${mode} exited (${code}) before the lab was up`)));
  });
}

describe("the Slurm lab (slurmctld and 3 slurmd in network namespaces)", function () {
  this.timeout(120_000);

  it("without Slurm's commands, a test fails with the exact install command (never skips)", () => {
    const script = `import { requireSlurmTools } from ${JSON.stringify(path.join(repoRoot, "test", "slurm-lab", "lab.ts"))}; try { requireSlurmTools(); console.log("found"); } catch (e) { console.log(e.message); }`;
    const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: repoRoot, env: { ...process.env, PATH: "/nonexistent" }, encoding: "utf8" });
    expect(out.stdout.trim()).to.match(/^the Slurm lab needs commands that are not installed: srun \(slurm-client\), .*; install them as root with: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge$/);
  });

  describe("a running lab", () => {
    let lab: SlurmLab;
    before(async () => {
      requireSlurmTools();
      lab = await startSlurmLab();
    });
    after(() => lab?.stop());

    it("has 3 idle nodes; a step on each runs on a machine of the node's name", async () => {
      expect([...(await lab.nodeStates()).entries()]).to.deep.equal([
        ["n1", "idle"],
        ["n2", "idle"],
        ["n3", "idle"],
      ]);
      const run = await lab.client("srun", ["-N3", "sh", "-c", 'echo "$(hostname) $SLURMD_NODENAME"']);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout.trim().split("\n").sort()).to.deep.equal(["n1 n1", "n2 n2", "n3 n3"]);
    });

    it("nodes share this machine's folders but not its /tmp", async () => {
      const inTmp = `/tmp/mnt-slurm-lab-probe-${process.pid}`;
      const shared = path.join(lab.dir, `probe-${process.pid}`);
      writeFileSync(inTmp, "here");
      writeFileSync(shared, "here");
      try {
        const seen = await lab.client("srun", ["-N1", "-w", "n2", "sh", "-c", `test -e ${inTmp} && echo tmp; test -e ${shared} && echo shared; true`]);
        expect(seen.stdout.trim()).to.equal("shared");
      } finally {
        rmSync(inTmp, { force: true });
        rmSync(shared, { force: true });
      }
    });

    it("a crashed node has no process left, and is idle again after restartNode", async () => {
      await lab.crashNode("n3");
      expect(nodeProcesses("n3")).to.deep.equal([]);
      await lab.restartNode("n3");
      expect((await lab.nodeStates()).get("n3")).to.equal("idle");
      const run = await lab.client("srun", ["-N1", "-w", "n3", "hostname"]);
      expect(run.stdout.trim()).to.equal("n3");
    });

    it("a second lab on the machine is refused, naming the running one", async () => {
      let error: Error | null = null;
      await startSlurmLab().catch((e: Error) => (error = e));
      expect(error!.message).to.match(new RegExp(`a Slurm lab is running already, for process ${process.pid} `));
    });
  });

  describe("teardown", () => {
    it("stop() leaves no process, namespace, link or folder", async () => {
      const lab = await startSlurmLab();
      expect(labLeftovers()).not.to.deep.equal([]);
      await lab.stop();
      expect(labLeftovers()).to.deep.equal([]);
    });

    it("a test process that exits takes its lab down on the way ('exit' hook)", async () => {
      const child = await labProcess("exit");
      expect(await child.exited).to.equal(3);
      expect(labLeftovers()).to.deep.equal([]);
    });

    it("a lab whose test process was SIGKILLed is swept by the next start", async () => {
      const child = await labProcess("wait");
      child.kill();
      await child.exited;
      expect(labLeftovers().length).to.be.greaterThan(0);
      const lab = await startSlurmLab();
      expect((await lab.nodeStates()).size).to.equal(3);
      await lab.stop();
      expect(labLeftovers()).to.deep.equal([]);
    });
  });
});
