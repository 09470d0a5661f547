// Times of the deploy's transfers for a ~40 MB release-like tree on a loopback lab host, next to
// plain rsync over OpenSSH, in one run (figures are noisy; compare within a run). Not a test:
//
//   node --import=tsx test/deploy/transfer-figures.ts [repetitions]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectSsh, type SshConnectOptions } from "../../core/connections/ssh/connect.ts";
import { requireLabTools, startLoopbackLab } from "../lab/lab.ts";
import { rsyncPush } from "../../toolchain/deploy/rsync-over-ssh.ts";
import { sftpPush } from "../../toolchain/deploy/sftp-push.ts";
import { makeTree, manifestOf } from "./trees.ts";

const repetitions = Number(process.argv[2] ?? 3);
requireLabTools();
const lab = await startLoopbackLab(1);
const dir = mkdtempSync(path.join(os.tmpdir(), "mnt-transfer-figures-"));
try {
  const host = lab.hosts[0]!;
  const options: SshConnectOptions = { label: host.name, user: host.user, port: host.port, identityFiles: [lab.clientKey], knownHostsFile: lab.knownHostsFile, strictHostKeyChecking: "yes", connectTimeoutMs: 10_000 };
  const local = path.join(dir, "tree");
  // 10 × 3.5 MB of random bytes and 900 small files in 45 folders: like LAB.md's 37 MB / 915 files.
  makeTree(local, { smallFiles: 900, largeFiles: Array.from({ length: 10 }, () => 3_500_000) });
  const files = manifestOf(local);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  console.log(`tree: ${files.length} files, ${(total / 1e6).toFixed(1)} MB`);

  const time = async (work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };
  const rows: Record<string, number[]> = {};
  const record = (name: string, ms: number) => (rows[name] ??= []).push(ms);

  for (let round = 0; round < repetitions; round++) {
    const target = (name: string) => path.join(dir, `${name}-${round}`);
    // OpenSSH: a login per run, as `rsync -e ssh` always pays.
    const openssh = () => execFileSync("rsync", ["-a", "--delete", "--stats", "-e", `ssh -F ${lab.sshConfigFile}`, `${local}/`, `${host.name}:${target("openssh")}/`]);
    record("rsync over OpenSSH (own login), cold", await time(async () => openssh()));
    record("rsync over OpenSSH (own login), no change", await time(async () => openssh()));

    // mnt: the session is the deploy's, already open (the probe opened it); also timed with the connect.
    record("ssh2 connect (mnt, once per host)", await time(async () => connectSsh(host.address, options).then((s) => s.close())));
    const session = await connectSsh(host.address, options);
    try {
      record("exec `true` on the open session", await time(() => session.run("true")));
      record("rsync over mnt's session, cold", await time(() => rsyncPush(session, { localDir: local, remoteDir: target("mnt-rsync") })));
      record("rsync over mnt's session, no change", await time(() => rsyncPush(session, { localDir: local, remoteDir: target("mnt-rsync") })));
      record("SFTP push, cold", await time(() => sftpPush(session, { localDir: local, files, remoteDir: target("sftp") })));
      record("SFTP push, no change", await time(() => sftpPush(session, { localDir: local, files, remoteDir: target("sftp") })));
    } finally {
      session.close();
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const width = Math.max(...Object.keys(rows).map((name) => name.length));
  for (const [name, values] of Object.entries(rows)) {
    console.log(`${name.padEnd(width)}  median ${median(values).toFixed(0).padStart(5)} ms   (${values.map((v) => v.toFixed(0)).join(", ")})`);
  }
} finally {
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
}
