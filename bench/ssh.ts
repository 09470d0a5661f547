// `npm run bench:ssh`: Marionette over SSH on a lab of real sshd hosts (test/lab/lab.ts, network
// namespaces on this machine), side by side with its peers in one run:
//   1. tiny-op throughput and p50/p99 through one agent over SSH vs the same agent over a local pipe
//      (bench/stats.ts method, identical for both);
//   2. shared-data bytes per second into a host: Marionette (set → a slave there has read it) vs the
//      OpenSSH client (`ssh host 'cat > /dev/null'`, the channel's physical limit) and a raw ssh2
//      exec channel into `cat > /dev/null` (the same library without Marionette on top);
//   3. time from starting `mnt exec --hosts` to the first op having run on each of 3 hosts, vs 3
//      parallel `ssh host node -e …` (starting Node.js over SSH at all).
// Results go to docs/BENCHMARKS.md with the command that produced them.
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { localConnector } from "../core/connections/local.ts";
import { agentConnector } from "../cli/remote-hosts.ts";
import { connectSsh, type SshConnectOptions } from "../core/connections/ssh/connect.ts";
import type { AgentSpec } from "../core/runtime/runtime.ts";

/** Benchmarks name their slot counts: the runtime waits for exactly that many slaves. */
type BenchSpec = AgentSpec & { slots: number };
import { loadInventory } from "../core/hosts/inventory.ts";
import { buildProgram } from "../toolchain/build/build.ts";
import { AGENT_FILE, PROGRAM_FILE, readRelease } from "../toolchain/build/release-folder.ts";
import { deploy } from "../toolchain/deploy/deploy.ts";
import { hostTarget } from "../toolchain/targets.ts";
import { requireLabTools, startNetnsLab, type Lab, type LabHost } from "../test/lab/lab.ts";
import { startRuntime, stopRuntime } from "./cluster.ts";
import { mntFirstOps, parallelSshNode } from "./ssh-startup.ts";
import { formatMiBps, formatOps, formatRatio, formatTable, formatUs, measure, percentile, sortNumbers, type PeerResult } from "./stats.ts";

const WORKERS = ["noop", "readShared"];
const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED_BYTES = Number(process.env.SHARED_MIB ?? 256) * 1024 * 1024;
const STARTS = Number(process.env.STARTS ?? 5);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

requireLabTools();
const lab = await startNetnsLab(3);
try {
  const h1 = lab.hosts[0]!;
  const hostsFile = path.join(lab.dir, "bench-hosts.yaml");
  lab.writeHostsYaml(hostsFile, { defaults: { slots: 2 } });
  // The release the agents run, built for this machine's target and deployed the way mnt does.
  const built = await buildProgram({ program: path.join(here, "programs", "noop.ts"), targets: [hostTarget()], outDir: path.join(os.tmpdir(), "mnt-bench-build") });
  const release = readRelease(built.targets[0]!.dir)!;
  const deployed = await deploy({ hosts: loadInventory(hostsFile).hosts, releaseFor: async () => release, check: {} });
  const failed = deployed.results.find((result) => result.status === "failed");
  if (failed) throw new Error(failed.error ?? "deploy failed");

  const sshOptions = (host: LabHost): SshConnectOptions => ({
    label: host.name,
    user: "root",
    port: host.port,
    identityFiles: [lab.clientKey],
    knownHostsFile: lab.knownHostsFile,
    strictHostKeyChecking: "yes",
    connectTimeoutMs: 10_000,
  });
  const overSsh = (host: LabHost): BenchSpec => {
    const ready = deployed.ready.get(host.name)!;
    return {
      host: host.name,
      slots: 2,
      programPath: PROGRAM_FILE,
      connect: agentConnector(ready),
    };
  };
  const local: BenchSpec = { host: "local", slots: 2, programPath: path.join(release.dir, PROGRAM_FILE), connect: localConnector(path.join(release.dir, AGENT_FILE)) };

  // 1. tiny ops
  const rpc: PeerResult[] = [];
  for (const [name, spec] of [
    ["marionette over SSH (1 agent, 2 slaves)", overSsh(h1)],
    ["marionette over a local pipe (1 agent, 2 slaves)", local],
  ] as const) {
    const runtime = await startRuntime(spec, WORKERS);
    rpc.push(await measure({ name, call: () => runtime.issueWorker(0, "noop", 0, undefined) }));
    log(`${name}: ${formatOps(rpc.at(-1)!.opsPerSec)} ops/s`);
    await stopRuntime(runtime);
  }

  // 2. bytes into a host
  const payload = Buffer.alloc(SHARED_BYTES, 7);
  const bytes: Array<{ name: string; mibPerSec: number }> = [];
  bytes.push({ name: "OpenSSH client: ssh host 'cat > /dev/null'", mibPerSec: await openSshCat(lab, h1, payload) });
  log(`OpenSSH cat: ${formatMiBps(bytes.at(-1)!.mibPerSec)}`);
  bytes.push({ name: "ssh2 exec channel into cat > /dev/null", mibPerSec: await ssh2Cat(sshOptions(h1), h1, payload) });
  log(`ssh2 cat: ${formatMiBps(bytes.at(-1)!.mibPerSec)}`);
  {
    const runtime = await startRuntime({ ...overSsh(h1), slots: 1 }, WORKERS);
    const started = process.hrtime.bigint();
    runtime.setShared("blob", new Uint8Array(payload.buffer, payload.byteOffset, payload.length));
    const read = await runtime.issueWorker(1, "readShared", "blob", undefined);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (read !== SHARED_BYTES) throw new Error(`the slave read ${String(read)} bytes`);
    bytes.push({ name: "marionette shared data over SSH (set → read by a slave there)", mibPerSec: SHARED_BYTES / 2 ** 20 / seconds });
    log(`marionette shared: ${formatMiBps(bytes.at(-1)!.mibPerSec)}`);
    await stopRuntime(runtime);
  }

  // 3. start-up on 3 hosts (releases in place: the first run deployed them)
  for (const ready of deployed.ready.values()) ready.session.close();
  const mntStarts: number[] = [];
  const sshStarts: number[] = [];
  for (let k = 0; k < STARTS; k++) {
    mntStarts.push(await mntFirstOps(hostsFile));
    sshStarts.push(await parallelSshNode(lab));
    log(`start ${k + 1}/${STARTS}: mnt ${mntStarts.at(-1)!.toFixed(0)} ms, ssh node ${sshStarts.at(-1)!.toFixed(0)} ms`);
  }

  const ours = rpc[0]!;
  console.log(`node ${process.version}, ${os.availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)}; lab of ${lab.hosts.length} sshd hosts in network namespaces on this machine\n`);
  console.log(
    formatTable([
      ["target", "ops/s", "over SSH ÷ target", "p50", "p99"],
      ...rpc.map((r) => [r.name, formatOps(r.opsPerSec), formatRatio(ours.opsPerSec, r.opsPerSec), formatUs(r.p50Us), formatUs(r.p99Us)]),
    ]),
  );
  console.log();
  const marionetteBytes = bytes.at(-1)!;
  console.log(
    formatTable([
      ["target", `throughput (${SHARED_BYTES / 2 ** 20} MiB)`, "marionette ÷ target"],
      ...bytes.map((r) => [r.name, formatMiBps(r.mibPerSec), formatRatio(marionetteBytes.mibPerSec, r.mibPerSec)]),
    ]),
  );
  console.log();
  const mntMedian = percentile(sortNumbers(mntStarts), 50, true);
  const sshMedian = percentile(sortNumbers(sshStarts), 50, true);
  console.log(
    formatTable([
      ["from start to …", `median of ${STARTS}`, "mnt ÷ target"],
      ["mnt exec --hosts: first op run on each of 3 hosts", `${mntMedian.toFixed(0)} ms`, formatRatio(mntMedian, mntMedian)],
      ["3 parallel ssh host node -e 'Date.now()' (OpenSSH)", `${sshMedian.toFixed(0)} ms`, formatRatio(mntMedian, sshMedian)],
    ]),
  );
} finally {
  await lab.stop();
}


function openSshCat(lab: Lab, host: LabHost, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn("ssh", ["-F", lab.sshConfigFile, host.name, "cat > /dev/null"], { stdio: ["pipe", "ignore", "inherit"] });
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`ssh exited ${code}`));
      resolve(payload.length / 2 ** 20 / (Number(process.hrtime.bigint() - started) / 1e9));
    });
    child.stdin.end(payload);
  });
}

async function ssh2Cat(options: SshConnectOptions, host: LabHost, payload: Buffer): Promise<number> {
  const session = await connectSsh(host.address, options);
  try {
    const started = process.hrtime.bigint();
    const result = await session.run("cat > /dev/null", payload);
    if (result.code !== 0) throw new Error(`cat exited ${result.code}`);
    return payload.length / 2 ** 20 / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    session.close();
  }
}
