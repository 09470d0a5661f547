// Start-up on many hosts at once (issue 10): 30 real sshd hosts in network namespaces, 1 slot each,
// all on this machine's 2 cores. Before the fix, 10 hosts gave 5 spurious "cannot use the work
// folder: no message" lines and 30 gave 84 (a lost exit status, see channel-end.ts), and slaves slow
// to start under the storm were killed for a missing heartbeat. What a user checks: the results
// are exact, every host ran ops, stderr has no failure line, and --require-all exits 0; first with
// the release sent to every host, then with it in place. And --require-all fails, naming the host,
// when one passed the deploy but never ran an agent (the runs had exited 0).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { runMnt } from "../helpers/mnt.ts";
import { describeRun, fixture } from "../cli/support.ts";
import { requireLabTools, startNetnsLab, type Lab } from "../lab/lab.ts";

const HOSTS = 30;

/** Lines of a run's stderr other than a deploy, an agent coming up and the summary. */
function unusualLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line !== "" && !/^\[mnt\] (h\d+: deployed linux-x64 release \w+ \(\d+ files, \d+ bytes\)|h\d+: agent up \(.*\), 1 slaves|done in .*: \d+ worker ops, 0 context ops, 0 retried, 0 failed)$/.test(line));
}

describe(`many hosts at once: ${HOSTS} lab hosts (sshd in network namespaces), 1 slot each`, function () {
  this.timeout(240_000);
  let lab: Lab;
  let dir: string;
  let hostsFile: string;
  const names = () => lab.hosts.map((h) => h.name).sort();

  before(async () => {
    requireLabTools();
    lab = await startNetnsLab(HOSTS);
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-many-hosts-"));
    hostsFile = path.join(dir, "hosts.yaml");
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 1 } });
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const round of ["release sent to every host", "release already in place"]) {
    it(`${round}: exact results from every host, no failure line, --require-all exits 0`, async () => {
      const ops = 20 * HOSTS;
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", hostsFile, "--require-all", "--", "squares", String(ops), String(HOSTS)], { timeoutMs: 180_000 });
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout, describeRun(run)).to.equal(`remote-job: ${ops} results correct; hosts: ${names().join(",")}\n`);
      expect(unusualLines(run.stderr), describeRun(run)).to.deep.equal([]);
      const up = run.stderr.match(/^\[mnt\] h\d+: agent up /gm) ?? [];
      expect(up, "one agent per host, each up once").to.have.length(HOSTS);
      const deployed = run.stderr.match(/^\[mnt\] h\d+: deployed /gm) ?? [];
      expect(deployed, "deployed once to each host, then not again").to.have.length(round === "release sent to every host" ? HOSTS : 0);
    });
  }

  it("--require-all: a host that passed the deploy but whose agent never starts fails the run, named (it used to exit 0)", async () => {
    const file = path.join(dir, "hosts-broken-agent.yaml");
    // h2's `node` runs the probe's `node -e …` but refuses anything else: the deploy passes, every agent start fails.
    const node = `sh -c 'if [ "$1" = -e ]; then exec node "$@"; fi; echo "test: no agent here" >&2; exit 3' sh`;
    lab.writeHostsYaml(file, { defaults: { slots: 1 }, only: ["h1", "h2"], perHost: { h2: { node } } });
    const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--require-all", "--", "squares", "40", "2"], { timeoutMs: 120_000 });
    expect(run.code, describeRun(run)).to.equal(69);
    expect(run.stdout, describeRun(run)).to.equal("");
    expect(run.stderr, describeRun(run)).to.match(/^\[mnt\] h2: set aside for the rest of the run: /m);
    expect(run.stderr, describeRun(run)).to.match(/^mnt: --require-all: h2 was set aside before its agent ever came up \(.+\) \(fix that host, or run without --require-all\)$/m);
  });
});
