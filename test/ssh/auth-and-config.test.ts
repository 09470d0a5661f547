// Logging in and finding hosts the way OpenSSH users expect, against a lab of 2 real sshd hosts in
// network namespaces: ssh-agent before identity files, encrypted keys under CI (ssh-agent or a
// one-line refusal), ssh_config aliases, Include and ProxyJump through the inventory's
// sshConfigFile; and shared data crossing each SSH connection once per version. One loopback host
// (on a port other than 22) checks that a HostKeyAlias is recorded where OpenSSH looks for it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { resolveTarget } from "../../core/connections/ssh/resolve.ts";
import * as pty from "node-pty";
import { mntBin, repoRoot, runMnt } from "../helpers/mnt.ts";
import { startMnt } from "../helpers/live-mnt.ts";
import { waitFor } from "../helpers/wait.ts";
import { describeRun, expectOneLineMntError, fixture, nonEmptyLines } from "../cli/support.ts";
import { requireLabTools, startLoopbackLab, startNetnsLab, type Lab, type LabHost } from "../lab/lab.ts";

/** A real ssh-agent on its own socket, in the foreground (-D) so its pid is the one we spawned. */
interface SshAgent {
  socket: string;
  child: ChildProcess;
}

const SHARED_SIZE = 8 * 1024 * 1024;

/** `SHA256:…` of a key, as `ssh-keygen -lf` prints it (and sshd logs it). */
function keyFingerprint(publicKeyFile: string): string {
  return execFileSync("ssh-keygen", ["-lf", publicKeyFile], { encoding: "utf8" }).split(" ")[1]!;
}

/** The `Accepted publickey` lines an sshd log has after character `from`: who logged in from where, with which key. */
function loginsIn(log: string, from: number): Array<{ address: string; fingerprint: string }> {
  return [...log.slice(from).matchAll(/Accepted publickey for root from (\S+) port \d+ ssh2: \S+ (SHA256:\S+)/g)].map((m) => ({ address: m[1]!, fingerprint: m[2]! }));
}

describe("SSH logins and ssh_config (a lab of 2 real sshd hosts in network namespaces)", function () {
  this.timeout(120_000);
  let lab: Lab;
  let dir: string;
  const agents: SshAgent[] = [];
  const h = (i: number) => lab.hosts[i]!;
  const sshdLog = (host: LabHost) => readFileSync(path.join(lab.dir, host.name, "sshd.log"), "utf8");
  /** Inventory defaults every test starts from: no identity file, the lab's known_hosts. */
  const base = () => ({ user: "root", knownHostsFile: lab.knownHostsFile, strictHostKeyChecking: "yes", slots: 2, connectTimeoutMs: 3000 });
  const byAddress = (...hosts: LabHost[]) => hosts.map((host) => ({ name: host.name, address: host.address }));

  /** A hosts.yaml (JSON is YAML) with these defaults and hosts. */
  function inventory(name: string, defaults: Record<string, unknown>, hosts: Array<Record<string, unknown>>): string {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify({ defaults, hosts }, null, 2) + "\n");
    return file;
  }

  async function startAgent(name: string): Promise<SshAgent> {
    const socket = path.join(dir, `${name}.sock`);
    const child = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    const agent = { socket, child };
    agents.push(agent);
    await waitFor(() => existsSync(socket) || child.exitCode !== null, 5000, `ssh-agent to listen on ${socket}`);
    if (child.exitCode !== null) throw new Error(`ssh-agent exited with code ${child.exitCode}`);
    return agent;
  }

  /** ssh-add with the passphrase given through SSH_ASKPASS (no terminal here). */
  function sshAdd(agent: SshAgent, key: string, passphrase = ""): void {
    const askpass = path.join(dir, "askpass.sh");
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${passphrase}'\n`);
    chmodSync(askpass, 0o755);
    execFileSync("ssh-add", [key], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: "" }, stdio: "pipe" });
    const listed = execFileSync("ssh-add", ["-l"], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket }, encoding: "utf8" });
    expect(listed).to.include(keyFingerprint(`${key}.pub`));
  }

  /**
   * Runs remote-job until a batch was served by every one of `names` (hosts start at their own
   * pace: a short fixed job could end before the slower one is up), then stops it; returns the run.
   */
  async function jobOnEveryHost(file: string, names: string[], env: NodeJS.ProcessEnv) {
    const stop = path.join(dir, `stop-${path.basename(file)}`);
    rmSync(stop, { force: true });
    const mnt = startMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "until", stop], { env });
    try {
      await mnt.waitForStderr(new RegExp(`^remote-job: batch \\d+ hosts ${names.join(",")}$`, "m"), 60_000);
      writeFileSync(stop, "");
      return await mnt.exited;
    } finally {
      mnt.child.kill("SIGKILL");
    }
  }

  before(async () => {
    requireLabTools();
    lab = await startNetnsLab(2);
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-ssh-auth-"));
  });
  after(async () => {
    for (const agent of agents) if (agent.child.exitCode === null) agent.child.kill("SIGTERM");
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("logins", () => {
    it("ssh-agent comes first: with the lab key in a running agent, identityFiles naming a missing key do not matter (exit 0); without the agent the login is refused naming the missing key (exit 69)", async () => {
      const agent = await startAgent("agent-client-key");
      sshAdd(agent, lab.clientKey);
      const missing = path.join(dir, "no_such_key");
      const file = inventory("hosts-agent.yaml", { ...base(), identityFiles: [missing] }, byAddress(h(0), h(1)));
      const logFrom = sshdLog(h(0)).length;

      const withAgent = await runMnt(["hosts", "check", file], { env: { SSH_AUTH_SOCK: agent.socket } });
      expect(withAgent.code, describeRun(withAgent)).to.equal(0);
      for (const name of ["h1", "h2"]) expect(withAgent.stdout).to.match(new RegExp(`^${name}\\s+ok\\s+known\\s`, "m"));
      // The agent's key (the lab's client key) is the one h1 accepted.
      const logins = loginsIn(sshdLog(h(0)), logFrom);
      expect(logins.map((login) => login.fingerprint)).to.deep.equal([keyFingerprint(`${lab.clientKey}.pub`)]);

      const withoutAgent = await runMnt(["hosts", "check", file], { env: { SSH_AUTH_SOCK: "" } });
      expect(withoutAgent.code, describeRun(withoutAgent)).to.equal(69);
      const refused = nonEmptyLines(withoutAgent.stderr);
      expect(refused, describeRun(withoutAgent)).to.deep.equal(
        [h(0), h(1)].map((host) => `mnt: ${host.name} (root@${host.address}:22): authentication refused (tried no key) (${missing}: no such file)`),
      );
      for (const name of ["h1", "h2"]) expect(withoutAgent.stdout).to.match(new RegExp(`^${name}\\s+FAILED\\s+refused\\s`, "m"));
    });

    it("an encrypted key under CI without an agent: exit 77, one line naming the key and `ssh-add <file>`; with the key in ssh-agent the job runs", async () => {
      const encrypted = path.join(dir, "encrypted_key");
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-C", "mnt-test-encrypted", "-f", encrypted]);
      // Every lab sshd reads this one AuthorizedKeysFile.
      appendFileSync(path.join(lab.dir, "authorized_keys"), readFileSync(`${encrypted}.pub`));
      const file = inventory("hosts-encrypted.yaml", { ...base(), identityFiles: [encrypted] }, byAddress(h(0)));

      const refused = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "squares", "10"], { env: { CI: "true", SSH_AUTH_SOCK: "" } });
      const line = expectOneLineMntError(refused, 77);
      expect(line).to.equal(
        `mnt: h1 (root@${h(0).address}:22): authentication refused (tried no key) ` +
          `(${encrypted} is encrypted and there is no terminal to ask its passphrase: add it to ssh-agent (ssh-add ${encrypted}) before running mnt)`,
      );

      // An agent holding that key alone: the lab's own client key cannot be what logs in.
      const agent = await startAgent("agent-encrypted-key");
      sshAdd(agent, encrypted, "secret");
      const logFrom = sshdLog(h(0)).length;
      const run = await runMnt(["exec", fixture("remote-job.ts"), "--hosts", file, "--", "squares", "10"], { env: { CI: "true", SSH_AUTH_SOCK: agent.socket } });
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.equal("remote-job: 10 results correct; hosts: h1\n");
      const fingerprints = new Set(loginsIn(sshdLog(h(0)), logFrom).map((login) => login.fingerprint));
      expect([...fingerprints]).to.deep.equal([keyFingerprint(`${encrypted}.pub`)]);
    });
    it("on a terminal, an encrypted key's passphrase is asked for once, without echo, and the login works", async () => {
      const encrypted = path.join(dir, "encrypted_key_tty");
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "open sesame", "-C", "mnt-test-tty", "-f", encrypted]);
      appendFileSync(path.join(lab.dir, "authorized_keys"), readFileSync(`${encrypted}.pub`));
      const file = inventory("hosts-tty.yaml", { ...base(), identityFiles: [encrypted] }, byAddress(h(0), h(1)));
      const env: Record<string, string> = { ...(process.env as Record<string, string>), SSH_AUTH_SOCK: "" };
      delete env.CI;
      const terminal = pty.spawn(process.execPath, [mntBin, "hosts", "check", file], { cols: 200, rows: 40, cwd: repoRoot, env });
      let screen = "";
      terminal.onData((data) => (screen += data));
      const exitCode = new Promise<number>((resolve) => terminal.onExit(({ exitCode: code }) => resolve(code)));
      await waitFor(() => screen.includes(`Enter passphrase for ${encrypted}: `), 20_000, "the passphrase prompt");
      terminal.write("open sesame\r");
      expect(await exitCode, screen).to.equal(0);
      expect(screen, "asked once for both hosts").to.not.match(/Enter passphrase[\s\S]*Enter passphrase/);
      expect(screen, "not echoed").to.not.include("open sesame");
      expect(screen).to.match(/^h1\s+ok\s+known/m);
      expect(screen).to.match(/^h2\s+ok\s+known/m);
      expect(loginsIn(sshdLog(h(0)), 0).map((login) => login.fingerprint)).to.include(keyFingerprint(`${encrypted}.pub`));
    });
  });

  describe("ssh_config through the inventory's sshConfigFile", () => {
    it("addresses that are ssh_config aliases (h1, h2; no user, port or key in the inventory): a job runs on both", async () => {
      const file = inventory("hosts-aliases.yaml", { sshConfigFile: lab.sshConfigFile, slots: 2, connectTimeoutMs: 3000 }, [{ address: "h1" }, { address: "h2" }]);
      const run = await jobOnEveryHost(file, ["h1", "h2"], { SSH_AUTH_SOCK: "" });
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.match(/^remote-job: \d+ results correct; hosts: h1,h2\n$/);
      // The agents were reached at the addresses the aliases stand for, as the config's user.
      for (const name of ["h1", "h2"]) expect(run.stderr).to.match(new RegExp(`^\\[mnt\\] ${name}: agent up \\(linux-x64, `, "m"));
    });

    it("an ssh_config that Includes the lab's and adds `ProxyJump h1` for h2: the job runs, and h2's sshd sees the login come from h1", async () => {
      const config = path.join(dir, "ssh_config_jump");
      writeFileSync(config, [`Include ${lab.sshConfigFile}`, "", "Host h2", "  ProxyJump h1", ""].join("\n"));
      // What ssh -G makes of it: h2 at its own address, reached through h1.
      const target = await resolveTarget("h2", { sshConfigFile: config });
      expect([target.hostname, target.port, target.user, target.jump]).to.deep.equal([h(1).address, 22, "root", ["h1"]]);

      const file = inventory("hosts-jump.yaml", { sshConfigFile: config, slots: 2, connectTimeoutMs: 3000 }, [{ address: "h1" }, { address: "h2" }]);
      const logFrom = sshdLog(h(1)).length;
      const run = await jobOnEveryHost(file, ["h1", "h2"], { SSH_AUTH_SOCK: "" });
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stdout).to.match(/^remote-job: \d+ results correct; hosts: h1,h2\n$/);
      const logins = loginsIn(sshdLog(h(1)), logFrom);
      expect(logins, "logins on h2 during the run").to.not.have.length(0);
      expect(logins.map((login) => login.address), "every login on h2 came through h1").to.deep.equal(logins.map(() => h(0).address));
    });
  });

  describe("HostKeyAlias on a port other than 22 (a loopback lab host)", () => {
    let loopback: Lab;
    before(async () => {
      loopback = await startLoopbackLab(1);
    });
    after(async () => {
      await loopback?.stop();
    });

    it("accept-new records the key under the bare alias, as OpenSSH does, and OpenSSH then logs in with that file under StrictHostKeyChecking yes", async () => {
      const host = loopback.hosts[0]!;
      expect(host.port).to.not.equal(22);
      const knownHosts = path.join(dir, "known_hosts_alias");
      writeFileSync(knownHosts, "");
      const config = path.join(dir, "ssh_config_alias");
      writeFileSync(
        config,
        ["Host ka", `  HostName ${host.address}`, `  Port ${host.port}`, "  User root", `  IdentityFile ${loopback.clientKey}`, "  IdentitiesOnly yes", "  HostKeyAlias stable-ka", "  GlobalKnownHostsFile /dev/null", "  BatchMode yes", ""].join("\n"),
      );
      const file = inventory("hosts-alias.yaml", { sshConfigFile: config, knownHostsFile: knownHosts, strictHostKeyChecking: "accept-new", connectTimeoutMs: 3000 }, [{ address: "ka" }]);
      const check = await runMnt(["hosts", "check", file], { env: { SSH_AUTH_SOCK: "" } });
      expect(check.code, describeRun(check)).to.equal(0);
      expect(check.stderr).to.include(`[mnt] recorded a new host key: stable-ka ssh-ed25519 ${host.hostKeyFingerprint} → ${knownHosts}`);
      expect(readFileSync(knownHosts, "utf8")).to.equal(`stable-ka ${host.hostPublicKey.split(" ").slice(0, 2).join(" ")}\n`);
      const ssh = spawnSync("ssh", ["-F", config, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes", "ka", "echo logged-in"], { encoding: "utf8", env: { ...process.env, SSH_AUTH_SOCK: "" } });
      expect(ssh.status, ssh.stderr).to.equal(0);
      expect(ssh.stdout).to.equal("logged-in\n");
      // And mnt, now strict, verifies the line.
      const strict = inventory("hosts-alias-strict.yaml", { sshConfigFile: config, knownHostsFile: knownHosts, strictHostKeyChecking: "yes", connectTimeoutMs: 3000 }, [{ address: "ka" }]);
      const again = await runMnt(["hosts", "check", strict], { env: { SSH_AUTH_SOCK: "" } });
      expect(again.code, describeRun(again)).to.equal(0);
      expect(again.stdout).to.match(/^ka\s+ok\s+known\s/m);
    });
  });

  describe("shared data", () => {
    it("an 8 MiB shared value crosses each host's SSH connection once (bytesSent = 2 × its encoded size) though 4 slaves read it twice each", async () => {
      const file = inventory("hosts-shared.yaml", { ...base(), identityFiles: [lab.clientKey] }, byAddress(h(0), h(1)));
      const run = await runMnt(["exec", fixture("remote-shared.ts"), "--hosts", file, "--json", "--", "4"], { env: { SSH_AUTH_SOCK: "" } });
      expect(run.code, describeRun(run)).to.equal(0);
      expect(run.stderr).to.match(/^remote-shared: \d+ reads, every one of 4 slaves read it at least twice, 0 wrong; hosts: h1,h2$/m);
      const summary = JSON.parse(run.stdout) as { ok: boolean; slaves: number; shared: { versions: number; bytesSent: number } };
      expect(summary.ok, describeRun(run)).to.equal(true);
      expect(summary.slaves).to.equal(4);
      expect(summary.shared.versions).to.equal(1);
      // Once per host: the encoded value is the 8 MiB plus a few bytes of codec header.
      expect(summary.shared.bytesSent, describeRun(run)).to.be.within(2 * SHARED_SIZE, 2 * (SHARED_SIZE + 64));
      expect(summary.shared.bytesSent % 2, "the same encoded size for both hosts").to.equal(0);
    });
  });
});
