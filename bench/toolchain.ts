// `npm run bench:toolchain`: the toolchain through the commands users type, each next to its limit
// in the same run:
//   1. `mnt build` of examples/native-addons (four native addons) for x64, arm64 and armv7l: cold
//      (empty cache: native packages fetched, cross-built, load-tested under qemu) and with nothing
//      changed, vs `node -e 0` (the floor of any command) for the no-change case;
//   2. `mnt deploy` of those releases to 4 lab hosts (real sshd in network namespaces): cold and with
//      nothing changed, vs plain `rsync -a` of the same release folders over OpenSSH to the same 4
//      hosts in parallel (targets: no-change ≤ 1.5×, cold ≤ 1.2×);
// The start-up of `mnt exec --hosts` with releases in place is in `npm run bench:ssh`.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { requireLabTools, startNetnsLab, type Lab } from "../test/lab/lab.ts";
import { formatRatio, formatTable, percentile, sortNumbers } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const PROGRAM = "examples/native-addons/native.ts";
const ARCH = "x64,arm64,armv7l";
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Timed {
  ms: number;
  stdout: string;
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: repo, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => (code === 0 ? resolve({ ms: performance.now() - started, stdout }) : reject(new Error(`${command} ${args.join(" ")} exited ${code}\n${stderr.slice(-2000)}`))));
  });
}

const mnt = (args: string[], env: NodeJS.ProcessEnv = {}) => timed(process.execPath, [path.join(repo, "bin", "mnt.js"), ...args], env);
const median = (values: number[]) => percentile(sortNumbers(values), 50, true);

requireLabTools();
const work = mkdtempSync(path.join(os.tmpdir(), "mnt-bench-toolchain-"));
const cache = path.join(work, "cache");
const out = path.join(work, "build");
const env = { MNT_CACHE_DIR: cache };
let lab: Lab | null = null;
try {
  // 1. build
  const cold = await mnt(["build", PROGRAM, "--arch", ARCH, "--out", out], env);
  log(`cold build: ${(cold.ms / 1000).toFixed(1)} s`);
  const noChange: number[] = [];
  const floor: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    noChange.push((await mnt(["build", PROGRAM, "--arch", ARCH, "--out", out], env)).ms);
    floor.push((await timed(process.execPath, ["-e", "0"])).ms);
  }
  log(`no-change build: ${median(noChange).toFixed(0)} ms; node -e 0: ${median(floor).toFixed(0)} ms`);

  // 2. deploy to 4 hosts
  lab = await startNetnsLab(4);
  const hostsFile = path.join(work, "hosts.yaml");
  lab.writeHostsYaml(hostsFile, { defaults: { slots: 1 } });
  const deployCold = await mnt(["deploy", hostsFile, "--out", out, "--json"], env);
  const coldReport = JSON.parse(deployCold.stdout) as { hosts: Array<{ bytesSent: number }> };
  const rsyncCold = await plainRsync(lab, out, "cold");
  const deployNoChange: number[] = [];
  const rsyncNoChange: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    deployNoChange.push((await mnt(["deploy", hostsFile, "--out", out, "--json"], env)).ms);
    rsyncNoChange.push((await plainRsync(lab, out, "cold")).ms);
  }
  log(`deploy cold ${deployCold.ms.toFixed(0)} ms vs rsync ${rsyncCold.ms.toFixed(0)} ms; no change ${median(deployNoChange).toFixed(0)} vs ${median(rsyncNoChange).toFixed(0)} ms`);

  const release = JSON.parse(readFileSync(path.join(out, "linux-x64", "manifest.json"), "utf8")) as { files: Array<{ size: number }> };
  const bytes = release.files.reduce((sum, f) => sum + f.size, 0);
  console.log(`node ${process.version}, ${os.availableParallelism()} cores, ${new Date().toISOString().slice(0, 10)}; ${PROGRAM}, --arch ${ARCH}; release linux-x64: ${release.files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`);
  console.log(
    formatTable([
      ["build", "time", "mnt ÷ limit"],
      ["mnt build, cold (empty cache: fetch, cross-build, load-test under qemu)", `${(cold.ms / 1000).toFixed(1)} s`, ""],
      [`mnt build, nothing changed (median of ${ROUNDS})`, `${median(noChange).toFixed(0)} ms`, formatRatio(median(noChange), median(floor))],
      ["limit: node -e 0", `${median(floor).toFixed(0)} ms`, ""],
    ]),
  );
  console.log();
  console.log(
    formatTable([
      ["deploy to 4 hosts", "mnt deploy", "plain rsync -a over OpenSSH, 4 in parallel", "mnt ÷ rsync"],
      ["cold", `${deployCold.ms.toFixed(0)} ms (${coldReport.hosts.reduce((s, h) => s + h.bytesSent, 0)} bytes)`, `${rsyncCold.ms.toFixed(0)} ms`, formatRatio(deployCold.ms, rsyncCold.ms)],
      [`nothing changed (median of ${ROUNDS})`, `${median(deployNoChange).toFixed(0)} ms`, `${median(rsyncNoChange).toFixed(0)} ms`, formatRatio(median(deployNoChange), median(rsyncNoChange))],
    ]),
  );
} finally {
  await lab?.stop();
  rmSync(work, { recursive: true, force: true });
}

/** The same release folders to the same hosts with rsync -a over OpenSSH (each host its target's, into a folder of its own). */
async function plainRsync(lab: Lab, build: string, folder: string): Promise<Timed> {
  const started = performance.now();
  await Promise.all(lab.hosts.map((host) => timed("rsync", ["-a", "--delete", "-e", `ssh -F ${lab.sshConfigFile}`, `${build}/linux-x64/`, `${host.name}:plain-rsync-${folder}/`])));
  return { ms: performance.now() - started, stdout: "" };
}
