// Start-up over SSH, as `mnt exec --hosts` users see it, and its peer: time from starting the
// command to the first op having run on every host, vs starting Node.js on every host at once with
// OpenSSH. Used by bench/ssh.ts and bench/exec.ts.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Lab } from "../test/lab/lab.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");

/** The command mntFirstOps runs (after `node`), for the record. */
export function mntFirstOpsArgs(hostsFile: string, hosts: number, extra: string[] = []): string[] {
  return [path.join(repo, "bin", "mnt.js"), "exec", path.join(here, "programs", "first-op.ts"), "--hosts", hostsFile, "-q", ...extra, "--", String(hosts)];
}

/** `node bin/mnt.js exec programs/first-op.ts --hosts FILE`: ms from the start to the last host's first op. */
export async function mntFirstOps(hostsFile: string, hosts = 3): Promise<number> {
  return (await mntFirstOpsRun(hostsFile, hosts)).ms;
}

/**
 * The same, with what it printed on stderr kept (the [mnt] lines a user sees: a spurious failure
 * shows there) instead of passed through, and `extra` flags (e.g. --require-all).
 */
export function mntFirstOpsRun(hostsFile: string, hosts: number, extra: string[] = []): Promise<{ ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, mntFirstOpsArgs(hostsFile, hosts, extra), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`mnt exited ${code}: ${err.trim()}`));
      const first = JSON.parse(out) as Record<string, number>;
      if (Object.keys(first).length !== hosts) return reject(new Error(`first ops on ${Object.keys(first).length} hosts, not ${hosts}`));
      resolve({ ms: Math.max(...Object.values(first)) - started, stderr: err });
    });
  });
}

/** Every lab host (or those given) at once, `ssh host node -e ...`: ms from the start to the last one's Date.now(). */
export async function parallelSshNode(lab: Lab, hosts: Lab["hosts"] = lab.hosts): Promise<number> {
  const started = Date.now();
  const times = await Promise.all(
    hosts.map(
      (host) =>
        new Promise<number>((resolve, reject) => {
          const child = spawn("ssh", ["-F", lab.sshConfigFile, host.name, "node -e 'console.log(Date.now())'"], { stdio: ["ignore", "pipe", "inherit"] });
          let out = "";
          child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
          child.on("close", (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`ssh exited ${code}`))));
        }),
    ),
  );
  return Math.max(...times) - started;
}
