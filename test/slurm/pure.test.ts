// The pure parts of `--slurm`: what Slurm's environment and srun's output say, the command lines
// mnt runs, and how `--slurm "-N 3"` is told from a bare `--slurm`.
import { expect } from "chai";
import { pairNodes } from "../../core/connections/slurm/allocation.ts";
import { parseCpusPerNode } from "../../core/connections/slurm/cpus.ts";
import { parseNodeChecks } from "../../core/connections/slurm/release-on-nodes.ts";
import { sallocArgv } from "../../core/connections/slurm/salloc.ts";
import { srunAgentArgv, srunOnNodes } from "../../core/connections/slurm/srun.ts";
import { sallocWordsFollow } from "../../cli/slurm-flag.ts";
import { sallocWords } from "../../cli/slurm-hosts.ts";
import { MntError } from "../../core/errors.ts";

describe("slurm: pure parts", () => {
  it("SLURM_JOB_CPUS_PER_NODE: counts in node order, N(xK) repeated", () => {
    expect(parseCpusPerNode("2(x3),1")).to.deep.equal([2, 2, 2, 1]);
    expect(parseCpusPerNode("1(x3)")).to.deep.equal([1, 1, 1]);
    expect(parseCpusPerNode("64")).to.deep.equal([64]);
    expect(parseCpusPerNode("4,8(x2),16")).to.deep.equal([4, 8, 8, 16]);
    expect(() => parseCpusPerNode("2(3)")).to.throw(MntError, /SLURM_JOB_CPUS_PER_NODE="2\(3\)": cannot read part "2\(3\)"/);
  });

  it("nodes pair with their CPU counts; a count mismatch is an error naming both variables", () => {
    expect(pairNodes(["n1", "n2", "n3", "gpu7"], [2, 2, 2, 1], "n[1-3],gpu7", "2(x3),1")).to.deep.equal([
      { name: "n1", cpus: 2 },
      { name: "n2", cpus: 2 },
      { name: "n3", cpus: 2 },
      { name: "gpu7", cpus: 1 },
    ]);
    expect(() => pairNodes(["n1", "n2"], [2], "n[1-2]", "2")).to.throw(MntError, "2 nodes in SLURM_JOB_NODELIST=n[1-2] but 1 CPU counts in SLURM_JOB_CPUS_PER_NODE=2");
  });

  it("the nodes' answers: Node.js path, machine, manifest hash, release folder; other lines ignored", () => {
    const out = ["mnt-node n1 /usr/bin/node x86_64 abc123 - cwd", "srun: some warning", "mnt-node n2 - aarch64 - /tmp/mnt-0/releases/r1 -", ""].join("\n");
    const checks = parseNodeChecks(out);
    expect([...checks.keys()]).to.deep.equal(["n1", "n2"]);
    expect(checks.get("n1")).to.deep.equal({ node: "n1", nodeBinary: "/usr/bin/node", machine: "x86_64", manifestSha: "abc123", releaseDir: null, sameCwd: true });
    expect(checks.get("n2")).to.deep.equal({ node: "n2", nodeBinary: null, machine: "aarch64", manifestSha: null, releaseDir: "/tmp/mnt-0/releases/r1", sameCwd: false });
  });

  it("srun command lines: an agent step is unbuffered, overlapping, one task on its node, in the job", () => {
    expect(srunAgentArgv("42", "n2", "/usr/bin/node", "/rel/agent.cjs")).to.deep.equal(["srun", "-u", "--overlap", "--nodes=1", "--ntasks=1", "-w", "n2", "--jobid=42", "--job-name=mnt-agent", "/usr/bin/node", "/rel/agent.cjs"]);
    expect(srunAgentArgv("42", "n2", "node", "/rel/agent.cjs", "/rel")).to.include("--chdir=/rel");
    expect(srunOnNodes("42", ["n1", "n3"], ["sh", "-c", "x"])).to.deep.equal(["srun", "--overlap", "--jobid=42", "--nodes=2", "--ntasks=2", "--ntasks-per-node=1", "--nodelist=n1,n3", "--job-name=mnt-setup", "sh", "-c", "x"]);
  });

  it("salloc: the user's options, --no-kill before them, then the holder command", () => {
    const argv = sallocArgv(["-N", "3", "-p", "batch"]);
    expect(argv.slice(0, 6)).to.deep.equal(["salloc", "--no-kill", "-N", "3", "-p", "batch"]);
    expect(argv.slice(6, 8)).to.deep.equal(["sh", "-c"]);
  });

  it('--slurm "…" words: quotes as a shell reads them; shell syntax is a usage error', () => {
    expect(sallocWords("-N 3 -p lab")).to.deep.equal(["-N", "3", "-p", "lab"]);
    expect(sallocWords(`-N 2 --comment "two words"`)).to.deep.equal(["-N", "2", "--comment", "two words"]);
    expect(sallocWords("")).to.deep.equal([]);
    expect(() => sallocWords("-N 3; rm -rf /")).to.throw(MntError, /only salloc options may follow/);
  });

  it("whether salloc's words follow --slurm on the command line", () => {
    const follows = (...argv: string[]) => sallocWordsFollow(["exec", "job.ts", ...argv]);
    expect(follows("--slurm", "-N 3 -p lab")).to.equal(true);
    expect(follows("--slurm", "-N3")).to.equal(true);
    expect(follows("--slurm", "--partition lab")).to.equal(true);
    expect(follows("--slurm")).to.equal(false);
    expect(follows("--slurm", "--", "arg")).to.equal(false);
    expect(follows("--slurm", "--json")).to.equal(false);
    expect(follows("--slurm", "-q")).to.equal(false);
    expect(follows("--", "--slurm", "-N 3")).to.equal(false);
  });
});
