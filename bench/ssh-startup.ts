// Start-up over SSH, as `mnt exec --hosts` users see it, and its peer: time from starting the
// command to the first op having run on every host, vs starting Node.js on every host at once with
// OpenSSH. Used by bench/ssh.ts and bench/exec.ts.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Lab } from "../test/lab/lab.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");

/** `node bin/mnt.js exec programs/first-op.ts --hosts FILE`: ms from the start to the last host's first op. */
export function mntFirstOps(hostsFile: string, hosts = 3): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(repo, "bin", "mnt.js"), "exec", path.join(here, "programs", "first-op.ts"), "--hosts", hostsFile, "-q", "--", String(hosts)], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, CI: "true" } });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`mnt exited ${code}`));
      const first = JSON.parse(out) as Record<string, number>;
      resolve(Math.max(...Object.values(first)) - started);
    });
  });
}

/** Every lab host at once, `ssh host node -e ...`: ms from the start to the last one's Date.now(). */
export async function parallelSshNode(lab: Lab): Promise<number> {
  const started = Date.now();
  const times = await Promise.all(
    lab.hosts.map(
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
