// The deploy's file transfers against a real sshd (test/lab, loopback: the host shares this
// machine's file system, so each test writes to its own remote folder and reads the result
// directly): rsync through mnt's own SSH session, and the SFTP push for hosts without rsync.
// Every test opens one session and checks in sshd's log that it was the only login.
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { connectSsh, type SshSession } from "../../core/connections/ssh/connect.ts";
import { requireLabTools, startLoopbackLab, type Lab, type LabHost } from "../lab/lab.ts";
import { rsyncArgs, rsyncPush } from "../../toolchain/deploy/rsync-over-ssh.ts";
import { sftpPush } from "../../toolchain/deploy/sftp-push.ts";
import { isRsyncMissing, TransferError } from "../../toolchain/deploy/transfer-error.ts";
import { makeTree, manifestOf, snapshot } from "./trees.ts";

interface Sent {
  bytesSent: number;
  filesChanged: number;
  filesDeleted: number;
}

interface Method {
  name: "rsync" | "sftp";
  /** `previous`: an older folder on the host, relative to `remoteDir`, to link unchanged files from. */
  push(session: SshSession, localDir: string, remoteDir: string, options?: { previous?: string; checksum?: boolean; signal?: AbortSignal }): Promise<Sent>;
}

const METHODS: Method[] = [
  {
    name: "rsync",
    push: (session, localDir, remoteDir, options = {}) => rsyncPush(session, { localDir, remoteDir, linkDest: options.previous, checksum: options.checksum, signal: options.signal, label: "h1" }),
  },
  {
    name: "sftp",
    push: (session, localDir, remoteDir, options = {}) =>
      sftpPush(session, { localDir, files: manifestOf(localDir), remoteDir, seedFrom: options.previous, checksum: options.checksum, signal: options.signal, label: "h1" }),
  },
];

describe("deploy transfers: rsync over mnt's SSH session, SFTP push (a real sshd on loopback)", function () {
  this.timeout(120_000);
  let lab: Lab;
  let host: LabHost;
  let dir: string;
  const mounts: string[] = [];

  before(async () => {
    requireLabTools();
    lab = await startLoopbackLab(1);
    host = lab.hosts[0]!;
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-transfer-test-"));
  });
  after(async () => {
    for (const mount of mounts.reverse()) execFileSync("umount", ["-l", mount]);
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** "Accepted publickey" lines in the host's sshd log (LogLevel VERBOSE): one per login. */
  const sshdLog = () => {
    const file = path.join(lab.dir, host.name, "sshd.log");
    if (!existsSync(file)) throw new Error(`no sshd log at ${file}: has the lab's layout changed?`);
    return readFileSync(file, "utf8");
  };
  const logins = () => sshdLog().match(/^Accepted publickey for /gm)?.length ?? 0;

  /** Runs `work` on a session mnt opened (host key checked against the lab's known_hosts), then checks it was the only login. */
  async function withSession<T>(work: (session: SshSession) => Promise<T>): Promise<T> {
    const before = logins();
    const session = await connectSsh(host.address, {
      label: host.name,
      user: host.user,
      port: host.port,
      identityFiles: [lab.clientKey],
      knownHostsFile: lab.knownHostsFile,
      strictHostKeyChecking: "yes",
      connectTimeoutMs: 10_000,
    });
    let result: T;
    try {
      result = await work(session);
    } finally {
      session.close();
    }
    expect(logins() - before, "SSH logins during the test").to.equal(1);
    return result;
  }

  /** A tmpfs mounted at `at` (made first); the test run unmounts it. */
  function mountTmpfs(at: string, options: string): void {
    mkdirSync(at, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", at]);
    mounts.push(at);
  }

  for (const method of METHODS) {
    describe(method.name, () => {
      let big: string | null = null;
      /** 40 MB: long enough to be cut off in the middle. */
      const bigTree = (m: Method) => {
        big ??= path.join(dir, `${m.name}-big`);
        if (!existsSync(big)) makeTree(big, { smallFiles: 10, largeFiles: [20_000_000, 20_000_000] });
        return big;
      };
      let local: string;
      let remote: string;
      let files: string[];
      const size = (relative: string) => statSync(path.join(local, relative)).size;

      before(() => {
        local = path.join(dir, `${method.name}-local`);
        remote = path.join(dir, `${method.name}-remote`);
        mkdirSync(remote, { recursive: true });
        files = makeTree(local);
      });

      it("a cold transfer: the tree arrives byte-identical (nested folders, modes, the executable bit), on a session whose host key mnt checked", async () => {
        const sent = await withSession(async (session) => {
          expect(session.hostKey).to.equal("known");
          expect(session.hostKeyFingerprint).to.equal(host.hostKeyFingerprint);
          return method.push(session, local, `${remote}/rel1`);
        });
        expect(snapshot(`${remote}/rel1`).entries).to.deep.equal(snapshot(local).entries);
        expect(statSync(`${remote}/rel1/bin/tool`).mode & 0o777).to.equal(0o755);
        expect(sent.filesChanged).to.equal(files.length);
        expect(sent.bytesSent).to.equal(files.reduce((sum, file) => sum + size(file), 0));
      });

      it("nothing changed: no file and no file byte is sent", async () => {
        const sent = await withSession((session) => method.push(session, local, `${remote}/rel1`));
        expect(sent).to.include({ bytesSent: 0, filesChanged: 0, filesDeleted: 0 });
      });

      it("one file changed: about its size is sent, and only it", async () => {
        const changed = "lib/data/blob-2.bin";
        writeFileSync(path.join(local, changed), randomBytes(310_000));
        const sent = await withSession((session) => method.push(session, local, `${remote}/rel1`));
        expect(sent.filesChanged).to.equal(1);
        expect(sent.bytesSent).to.be.within(0.9 * size(changed), size(changed));
        expect(snapshot(`${remote}/rel1`).entries).to.deep.equal(snapshot(local).entries);
      });

      it("a file and a folder gone here are removed there", async () => {
        rmSync(path.join(local, "README.md"));
        rmSync(path.join(local, "lib/mod-4"), { recursive: true });
        const sent = await withSession((session) => method.push(session, local, `${remote}/rel1`));
        expect(sent).to.include({ bytesSent: 0, filesChanged: 0 });
        expect(sent.filesDeleted).to.be.at.least(2);
        expect(snapshot(`${remote}/rel1`).entries).to.deep.equal(snapshot(local).entries);
      });

      it("a new folder next to the previous one: unchanged files are hard links to it (same inode), only the changed file is sent, the previous one is untouched", async () => {
        const previous = snapshot(`${remote}/rel1`);
        const changed = "lib/data/blob-1.bin";
        const before = statSync(path.join(local, changed)).mtimeMs;
        writeFileSync(path.join(local, changed), randomBytes(size(changed)));
        // A quick check (size and time, SFTP's to the second) cannot tell a rewrite within the same
        // second: give the changed file a time of its own, as any later edit has.
        const later = new Date(Math.floor(before / 1000) * 1000 + 2000);
        utimesSync(path.join(local, changed), later, later);
        const sent = await withSession((session) => method.push(session, local, `${remote}/rel2`, { previous: "../rel1" }));
        const next = snapshot(`${remote}/rel2`);
        expect(next.entries).to.deep.equal(snapshot(local).entries);
        for (const file of Object.keys(next.inodes)) {
          if (file === changed) expect(next.inodes[file], file).to.not.equal(previous.inodes[file]);
          else expect(next.inodes[file], file).to.equal(previous.inodes[file]);
        }
        expect(sent.filesChanged).to.equal(1);
        expect(sent.bytesSent).to.be.within(0.9 * size(changed), size(changed));
        expect(snapshot(`${remote}/rel1`)).to.deep.equal(previous);
      });

      it("comparing contents finds a file corrupted on the host with its size and time kept, which the quick check misses", async () => {
        const victim = `${remote}/rel2/lib/data/blob-0.bin`;
        const corrupt = `${victim}.corrupt`;
        writeFileSync(corrupt, randomBytes(statSync(victim).size), { mode: 0o644 });
        // touch -r copies the time to the nanosecond (rsync compares nanoseconds); the rename
        // gives rel2 a new inode, so rel1's hard link to the old one stays intact.
        execFileSync("touch", ["-r", victim, corrupt]);
        renameSync(corrupt, victim);
        const quick = await withSession((session) => method.push(session, local, `${remote}/rel2`));
        expect(quick.filesChanged).to.equal(0);
        const byContent = await withSession((session) => method.push(session, local, `${remote}/rel2`, { checksum: true }));
        expect(byContent.filesChanged).to.equal(1);
        expect(snapshot(`${remote}/rel2`).entries).to.deep.equal(snapshot(local).entries);
      });

      it("a folder under ~/ with a space in its name", async () => {
        const parent = `.mnt-transfer-test-${process.pid}-${method.name}`;
        const home = os.userInfo().homedir;
        mkdirSync(path.join(home, parent), { recursive: true });
        try {
          await withSession((session) => method.push(session, local, `~/${parent}/a b`));
          expect(snapshot(path.join(home, parent, "a b")).entries).to.deep.equal(snapshot(local).entries);
        } finally {
          rmSync(path.join(home, parent), { recursive: true, force: true });
        }
      });

      it("a read-only folder: fails with the OS's reason", async () => {
        const ro = `${remote}/ro`;
        mountTmpfs(ro, "size=4m");
        mkdirSync(`${ro}/dest`);
        execFileSync("mount", ["-o", "remount,ro", ro]);
        const error = await withSession((session) => method.push(session, local, `${ro}/dest`).then(() => null, (e: unknown) => e));
        expect(error).to.be.instanceOf(TransferError);
        expect((error as TransferError).kind).to.equal("failed");
        expect((error as Error).message).to.match(/Read-only file system/);
        expect((error as Error).message).to.include(`h1: ${method.name === "rsync" ? "rsync to" : "SFTP push to"} ${ro}/dest`);
      });

      it("a full disk: fails with the OS's reason", async () => {
        const full = `${remote}/full`;
        mountTmpfs(full, "size=1m");
        const error = await withSession((session) => method.push(session, local, `${full}/dest`).then(() => null, (e: unknown) => e));
        expect(error).to.be.instanceOf(TransferError);
        expect((error as Error).message).to.match(/No space left on device/);
      });

      it("aborted in the middle: the transfer fails as aborted, nothing is left running, the session stays usable", async () => {
        const big = bigTree(method);
        await withSession(async (session) => {
          const abort = new AbortController();
          const pushing = method.push(session, big, `${remote}/aborted`, { signal: abort.signal });
          setTimeout(() => abort.abort(), 150);
          const error = await pushing.then(() => null, (e: unknown) => e);
          expect(error, "an error").to.be.instanceOf(Error);
          expect(String(error)).to.match(/abort/i);
          expect(bridges()).to.deep.equal([]);
          expect((await session.run("echo still here")).stdout).to.equal("still here\n");
        });
      });

      it("the connection lost in the middle: the transfer fails, nothing is left running", async () => {
        const big = bigTree(method);
        const session = await connectSsh(host.address, { label: host.name, user: host.user, port: host.port, identityFiles: [lab.clientKey], knownHostsFile: lab.knownHostsFile, strictHostKeyChecking: "yes", connectTimeoutMs: 10_000 });
        const pushing = method.push(session, big, `${remote}/cut`);
        setTimeout(() => session.close(), 150);
        const error = await pushing.then(() => null, (e: unknown) => e);
        expect(error).to.be.instanceOf(Error);
        expect(bridges()).to.deep.equal([]);
      });
    });
  }

  describe("rsync only", () => {
    let local: string;
    before(() => {
      local = path.join(dir, "rsync-only-local");
      makeTree(local, { smallFiles: 3, largeFiles: [10_000] });
    });

    it("no rsync on the host: recognisable, so the caller can fall back to SFTP", async () => {
      const error = await withSession((session) => rsyncPush(session, { localDir: local, remoteDir: `${dir}/nowhere`, remoteRsync: "PATH=/nonexistent rsync" }).then(() => null, (e: unknown) => e));
      expect(isRsyncMissing(error), String(error)).to.equal(true);
      expect((error as TransferError).kind).to.equal("rsync-missing-there");
      expect((error as Error).message).to.match(/the host has no rsync \(.*rsync: command not found\)/);
    });

    it("no rsync on this machine: recognisable too", async () => {
      const error = await withSession((session) => rsyncPush(session, { localDir: local, remoteDir: `${dir}/nowhere`, localRsync: "/nonexistent/rsync" }).then(() => null, (e: unknown) => e));
      expect((error as TransferError).kind).to.equal("rsync-missing-here");
    });

    it("two rsyncs and an SFTP push at once on one session: each lands whole in its own folder", async () => {
      const targets = ["a", "b", "c"].map((name) => `${dir}/at-once-${name}`);
      const sent = await withSession((session) =>
        Promise.all([
          rsyncPush(session, { localDir: local, remoteDir: targets[0]! }),
          rsyncPush(session, { localDir: local, remoteDir: targets[1]! }),
          sftpPush(session, { localDir: local, files: manifestOf(local), remoteDir: targets[2]! }),
        ]),
      );
      for (const target of targets) expect(snapshot(target).entries).to.deep.equal(snapshot(local).entries);
      expect(new Set(sent.map((s) => s.filesChanged))).to.deep.equal(new Set([manifestOf(local).length]));
    });

    it("rsync's remote shell is mnt's session: its command runs as a session of mnt's one login, not a login of its own", async () => {
      const args = rsyncArgs({ localDir: local, remoteDir: `${dir}/one-login` });
      expect(args[args.indexOf("--rsh") + 1]).to.match(/session-shell-bridge\.cjs'$/);
      const before = sshdLog().length;
      await withSession((session) => rsyncPush(session, { localDir: local, remoteDir: `${dir}/one-login` }));
      const log = sshdLog().slice(before);
      const port = /^Accepted publickey for root from \S+ port (\d+)/m.exec(log)?.[1];
      const sessions = [...log.matchAll(/^Starting session: command for root from \S+ port (\d+)/gm)].map((match) => match[1]);
      expect(sessions.length).to.be.at.least(1);
      expect(new Set(sessions)).to.deep.equal(new Set([port]));
    });
  });
});

/** Session-shell bridges still running (each is a child of a local rsync). */
function bridges(): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes("session-shell-bridge.cjs") && !/^\s*\d+\s+Z/.test(line));
}
