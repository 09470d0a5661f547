// `mnt exec --slurm` against a real Slurm (test/slurm-lab/lab.ts: slurmctld and nodes n1..n3 of 2
// CPUs each, in network namespaces, with their own /tmp): inside an allocation (salloc, sbatch),
// an allocation mnt asks for and gives back (at the end, on Ctrl-C, while pending, when mnt is
// SIGKILLed), the release through the shared file system or through srun, a node lost mid-run,
// and the mistakes a user makes.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { mntBin, repoRoot, runMnt, type MntRun } from "../helpers/mnt.ts";
import { startMnt, type LiveMnt } from "../helpers/live-mnt.ts";
import { waitFor } from "../helpers/wait.ts";
import { describeRun, expectOneLineMntError, fixture } from "../cli/support.ts";
import { requireSlurmTools, startSlurmLab, type SlurmLab } from "../slurm-lab/lab.ts";

describe("mnt exec --slurm (a real Slurm: controller and 3 nodes in network namespaces)", function () {
  this.timeout(180_000);
  let lab: SlurmLab;
  let dir: string;

  before(async () => {
    requireSlurmTools();
    lab = await startSlurmLab();
    // Under the lab's folder: every node sees it (an sbatch script's output is written on a node).
    dir = mkdtempSync(path.join(lab.dir, "exec-"));
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await lab?.stop();
  });

  const mnt = (args: string[], timeoutMs = 120_000) => runMnt(["exec", ...args], { env: lab.env, timeoutMs });
  // A run a test started and did not see to its end (it failed first) must not hold nodes for the next.
  const running = new Set<LiveMnt>();
  const live = (args: string[]) => {
    const started = startMnt(["exec", ...args], { env: lab.env });
    running.add(started);
    void started.exited.then(() => running.delete(started));
    return started;
  };
  afterEach(async () => {
    for (const started of running) started.child.kill("SIGKILL");
    await Promise.all([...running].map((started) => started.exited));
  });
  /** Slurm gives the allocation back asynchronously: squeue must show none left soon. */
  const noJobLeft = () => waitForJobs(lab, 0);

  describe("inside an allocation", () => {
    it("salloc -N 3 -n 6 mnt exec --slurm: exact results from n1, n2, n3, 2 slaves each (Slurm's CPUs)", async () => {
      const run = toMntRun(await lab.client("salloc", ["-N", "3", "-n", "6", process.execPath, mntBin, "exec", fixture("remote-job.ts"), "--slurm", "--", "squares", "600", "6"], { cwd: repoRoot, timeoutMs: 120_000 }));
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("remote-job: 600 results correct; hosts: n1,n2,n3\n");
      expect(run.stderr).to.match(/^\[mnt\] Slurm job \d+: n1 \(2 CPUs\), n2 \(2 CPUs\), n3 \(2 CPUs\)$/m);
      for (const node of ["n1", "n2", "n3"]) expect(run.stderr).to.match(new RegExp(`^\\[mnt\\] ${node}: agent up \\(linux-x64, Node\\.js [\\d.]+\\), 2 slaves$`, "m"));
      await noJobLeft();
    });

    it("salloc -N 3 (1 CPU per node): 1 slave per node", async () => {
      const run = toMntRun(await lab.client("salloc", ["-N", "3", process.execPath, mntBin, "exec", fixture("remote-job.ts"), "--slurm", "--", "squares", "90", "3"], { cwd: repoRoot, timeoutMs: 120_000 }));
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("remote-job: 90 results correct; hosts: n1,n2,n3\n");
      for (const node of ["n1", "n2", "n3"]) expect(run.stderr).to.match(new RegExp(`^\\[mnt\\] ${node}: agent up \\(.*\\), 1 slaves$`, "m"));
    });

    it("an sbatch script (the one in docs/CLUSTERS.md): the master runs on the first node, results exact", async () => {
      const output = path.join(dir, "sbatch.out");
      const script = path.join(dir, "job.sh");
      writeFileSync(
        script,
        [
          "#!/bin/sh",
          "#SBATCH --nodes=3",
          "#SBATCH --ntasks-per-node=2",
          "#SBATCH --no-kill",
          `#SBATCH --output=${output}`,
          `cd ${repoRoot}`,
          `${process.execPath} ${mntBin} exec ${fixture("remote-job.ts")} --slurm -- squares 600 6`,
          "",
        ].join("\n"),
      );
      const batch = await lab.client("sbatch", ["--wait", script], { timeoutMs: 150_000 });
      const printed = existsSync(output) ? readFileSync(output, "utf8") : "(no output file)";
      expect(batch.code, `${batch.stderr}\n${printed}`).to.equal(0);
      expect(printed).to.match(/^remote-job: 600 results correct; hosts: n1,n2,n3$/m);
      expect(printed).to.match(/^\[mnt\] n1: agent up \(.*\), 2 slaves$/m);
    });
  });

  describe("an allocation mnt asks for", () => {
    it('--slurm "-N 2 -n 4": exact results, [node:slot] output lines, and the allocation is given back', async () => {
      // The fixture starts its 16 ops once 4 slaves are up: all of them, so both nodes print.
      const run = await mnt([fixture("print-on-slaves.ts"), "--slurm", "-N 2 -n 4"]);
      expect(run.code, describeRun(run)).to.equal(0);
      const nodes = /^\[mnt\] Slurm job \d+: (n\d) \(2 CPUs\), (n\d) \(2 CPUs\)$/m.exec(run.stderr)!.slice(1);
      expect(run.stdout).to.match(new RegExp(`^print-on-slaves: ${nodes.join(",")}$`, "m"));
      const output = run.stdout + run.stderr;
      for (const node of nodes) expect(output).to.match(new RegExp(`^\\[${node}:[01]\\] hello from ${node}$`, "m"));
      expect(run.stderr).to.match(/^\[mnt\] salloc: Granted job allocation \d+$/m);
      expect(run.stderr).to.match(/^\[mnt\] salloc: Relinquishing job allocation \d+$/m);
      await noJobLeft();
    });

    it("a release the nodes cannot see (under this machine's /tmp) is sent through srun; one they see is used in place", async () => {
      const out = mkdtempSync("/tmp/mnt-slurm-out-");
      try {
        // Run from a folder the nodes do not have either: their agents start in the release's folder instead.
        const shipped = await runMnt(["exec", path.join(repoRoot, fixture("remote-job.ts")), "--out", out, "--slurm", "-N 3", "--", "squares", "90", "3"], { env: lab.env, cwd: out, timeoutMs: 120_000 });
        expect(shipped.code, describeRun(shipped)).to.equal(0);
        expect(shipped.stderr).not.to.match(/chdir/);
        expect(shipped.stdout).to.equal("remote-job: 90 results correct; hosts: n1,n2,n3\n");
        expect(shipped.stderr).to.match(/^\[mnt\] release [0-9a-f]{16}: sent through srun to n1, n2, n3 \(\/tmp\/mnt-0\/releases\/[0-9a-f]{16}\)$/m);
        const shared = await mnt([fixture("remote-job.ts"), "--out", dir, "--slurm", "-N 3", "--", "squares", "90", "3"]);
        expect(shared.code, describeRun(shared)).to.equal(0);
        expect(shared.stdout).to.equal("remote-job: 90 results correct; hosts: n1,n2,n3\n");
        expect(shared.stderr).to.match(new RegExp(`^\\[mnt\\] release [0-9a-f]{16}: n1, n2, n3 see it on a shared file system \\(${dir}/linux-x64\\)$`, "m"));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });

    it("shared data reaches nodes that see the release through files on the shared file system, the others through srun", async () => {
      const sharedSummary = (run: MntRun) => JSON.parse(run.stdout) as { ok: boolean; shared: { bytesSent: number } };
      const build = path.join(dir, "shared-data-build");
      const inPlace = await mnt([fixture("remote-shared.ts"), "--out", build, "--json", "--slurm", "-N 3", "--", "3"]);
      expect(inPlace.code, describeRun(inPlace)).to.equal(0);
      expect(inPlace.stderr).to.match(/^remote-shared: \d+ reads, every one of 3 slaves read it at least twice, 0 wrong; hosts: n1,n2,n3$/m);
      // Not a byte of it went through the connections: the agents read the file the master wrote.
      expect(sharedSummary(inPlace).shared.bytesSent).to.equal(0);
      const out = mkdtempSync("/tmp/mnt-slurm-out-");
      try {
        const shipped = await mnt([fixture("remote-shared.ts"), "--out", out, "--json", "--slurm", "-N 3", "--", "3"]);
        expect(shipped.code, describeRun(shipped)).to.equal(0);
        expect(shipped.stderr).to.match(/^remote-shared: \d+ reads, every one of 3 slaves read it at least twice, 0 wrong; hosts: n1,n2,n3$/m);
        // Once into each of the 3 nodes (8 MiB and its encoding's few bytes).
        expect(sharedSummary(shipped).shared.bytesSent).to.be.within(3 * 8 * 2 ** 20, 3 * (8 * 2 ** 20 + 64));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
      // The folder of the files (beside the release) is gone with the run.
      expect(readdirSync(build).filter((name) => name.startsWith("shared-"))).to.deep.equal([]);
    });

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      it(`${signal} mid-run: the run stops (exit ${signal === "SIGINT" ? 130 : 143}) and the allocation is given back`, async () => {
        const stop = path.join(dir, `never-${signal}`);
        const job = live([fixture("remote-job.ts"), "--slurm", "-N 3", "--", "until", stop]);
        await job.waitForStderr(/^remote-job: batch 2 /m, 60_000);
        expect(await lab.jobs()).to.have.length(1);
        job.child.kill(signal);
        const run = await job.exited;
        expect(run.code, describeRun(run)).to.equal(signal === "SIGINT" ? 130 : 143);
        expect(run.stderr).to.match(/^mnt: stopped after [\d.]+ s: \d+ worker ops had finished/m);
        await noJobLeft();
      });
    }

    it("Ctrl-C while the allocation is still pending: the request is withdrawn, exit 130", async () => {
      const job = live([fixture("remote-job.ts"), "--slurm", "-N 1 --begin=now+3600"]);
      await job.waitForStderr(/queued and waiting for resources/, 30_000);
      expect(await lab.jobs()).to.have.length(1);
      job.child.kill("SIGINT");
      const run = await job.exited;
      expect(run.code, describeRun(run)).to.equal(130);
      expect(run.stderr).to.match(/^mnt: SIGINT: gave up the Slurm allocation request$/m);
      await noJobLeft();
    });

    it("mnt SIGKILLed mid-run: the allocation is given back all the same (squeue shows no job); the next run removes its shared-data folder", async () => {
      const stop = path.join(dir, "never-kill");
      const build = path.join(dir, "killed-build");
      const job = live([fixture("remote-job.ts"), "--out", build, "--slurm", "-N 3", "--", "until", stop]);
      await job.waitForStderr(/^remote-job: batch 2 /m, 60_000);
      expect(await lab.jobs()).to.have.length(1);
      job.child.kill("SIGKILL");
      await job.exited;
      await noJobLeft();
      const sharedDirs = () => readdirSync(build).filter((name) => name.startsWith("shared-"));
      expect(sharedDirs()).to.have.length(1);
      const next = await mnt([fixture("remote-job.ts"), "--out", build, "--slurm", "-N 1", "--", "squares", "10"]);
      expect(next.code, describeRun(next)).to.equal(0);
      expect(sharedDirs()).to.deep.equal([]);
    });
  });

  describe("a node lost (before the start, or mid-run)", () => {
    after(async () => {
      if ((await lab.nodeStates()).get("n2") !== "idle") await lab.restartNode("n2");
    });

    it("a node dead when mnt starts inside the allocation: named on one line, left out, exact results on the others", async () => {
      const go = path.join(dir, "go-node-down");
      // salloc's shell waits for the go, so n2 dies after the allocation and before mnt starts.
      const finished = lab.client("salloc", ["-N", "3", "--no-kill", "sh", "-c", `while [ ! -e "${go}" ]; do sleep 0.1; done; exec "$0" "$@"`, process.execPath, mntBin, "exec", fixture("remote-job.ts"), "--slurm", "--", "squares", "200", "2"], { cwd: repoRoot, timeoutMs: 150_000 });
      await waitForJobs(lab, 1);
      await lab.crashNode("n2");
      writeFileSync(go, "");
      const run = toMntRun(await finished);
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("remote-job: 200 results correct; hosts: n1,n3\n");
      expect(run.stderr).to.match(/^mnt: --slurm: job \d+: could not check the nodes \(srun on n2\): .+$/m);
      expect(run.stderr).to.match(/^\[mnt\] running on n1, n3: 2 of the allocation's 3 nodes$/m);
      await lab.restartNode("n2");
    });

    it("every process of n2 killed: the run finishes on n1 and n3 with exact results, and gives the allocation back", async () => {
      const stop = path.join(dir, "stop-node-lost");
      const job = live([fixture("remote-job.ts"), "--slurm", "-N 3 -n 6", "--agent-timeout", "3000", "--", "until", stop]);
      await job.waitForStderr(/^remote-job: batch \d+ hosts n1,n2,n3$/m, 60_000);
      await lab.crashNode("n2");
      const lost = await job.waitForStderr(/^\[mnt\] n2: agent lost: /m, 60_000);
      await job.waitForStderr(/^remote-job: batch \d+ hosts n1,n3$/m, 60_000, lost.end);
      writeFileSync(stop, "");
      const run = await job.exited;
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.match(/^remote-job: \d+ results correct; hosts: n1,n2,n3$/m);
      // The lost node's srun would hang for minutes: mnt must not leave it behind.
      const jobId = /^\[mnt\] Slurm job (\d+):/m.exec(run.stderr)![1]!;
      expect(srunsOf(jobId)).to.deep.equal([]);
      await noJobLeft();
    });
  });

  describe("mistakes", () => {
    it("--slurm outside an allocation with no salloc options: one line naming both fixes, exit 64", async () => {
      const env = Object.fromEntries(Object.entries(lab.env).filter(([key]) => !key.startsWith("SLURM_JOB") && key !== "SLURM_JOBID"));
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--slurm"], { env, timeoutMs: 60_000 });
      const line = expectOneLineMntError(run, 64);
      expect(line).to.equal('mnt: --slurm: not inside a Slurm allocation (SLURM_JOB_ID is not set) (run mnt inside an allocation (`salloc -N 3 mnt exec …` or an sbatch script), or let mnt ask for one: --slurm "-N 3 -p PARTITION")');
    });

    it("salloc refuses (no such partition): salloc's reason and the fix on one line, exit 69, no job", async () => {
      const run = await mnt([fixture("remote-job.ts"), "--slurm", "-N 3 -p nosuch", "-q"]);
      const line = expectOneLineMntError(run, 69);
      expect(line).to.equal("mnt: --slurm: salloc -N 3 -p nosuch: Job submit/allocate failed: Invalid partition name specified (fix the salloc options given to --slurm (`sinfo` lists partitions and nodes))");
      expect(await lab.jobs()).to.deep.equal([]);
    });

    it("--slurm with --hosts or --slots: a usage error, exit 64", async () => {
      const slots = await mnt([fixture("remote-job.ts"), "--slurm", "-N 3", "--slots", "2"]);
      expect(expectOneLineMntError(slots, 64)).to.equal("mnt: --slurm runs on the allocation's nodes with their CPUs as slots: drop --slots");
      const hosts = await mnt([fixture("remote-job.ts"), "--slurm", "--hosts", "hosts.yaml"]);
      expect(expectOneLineMntError(hosts, 64)).to.equal("mnt: --slurm runs on the allocation's nodes with their CPUs as slots: drop --hosts");
    });

    it("shell syntax in the salloc options: a usage error, exit 64", async () => {
      const run = await mnt([fixture("remote-job.ts"), "--slurm", "-N 3 && echo hi"]);
      expect(expectOneLineMntError(run, 64)).to.match(/^mnt: --slurm "-N 3 && echo hi": only salloc options may follow, not shell syntax/);
    });
  });
});

/** Live srun processes of a job (their command lines). */
function srunsOf(jobId: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (path.basename(argv[0]!) === "srun" && argv.includes(`--jobid=${jobId}`) && !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) found.push(argv.join(" "));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function toMntRun(result: { code: number | null; stdout: string; stderr: string }): MntRun {
  return { code: result.code, signal: null, stdout: result.stdout, stderr: result.stderr };
}

async function waitForJobs(lab: SlurmLab, count: number): Promise<void> {
  let jobs: string[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    jobs = await lab.jobs();
    if (jobs.length === count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`squeue still shows jobs ${jobs.join(", ")} 30 s later (expected ${count})`);
}
