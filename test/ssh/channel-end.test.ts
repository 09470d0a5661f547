// How a command over SSH ends, against a real sshd (test/lab): one that ends without an exit
// status says why (signal, connection lost), a refused channel names MaxSessions, and many logins
// at once to one sshd stay under its MaxStartups. (An exit status ssh2 emits before the caller
// listens: session-run.test.ts.)
import { expect } from "chai";
import { connectSsh, type SshConnectOptions } from "../../core/connections/ssh/connect.ts";
import { HANDSHAKES_PER_SSHD } from "../../core/connections/ssh/handshake-gate.ts";
import { requireLabTools, startLoopbackLab, type Lab } from "../lab/lab.ts";

describe("commands over SSH end truthfully (real sshd)", function () {
  this.timeout(60_000);
  let lab: Lab;
  const options = (port: number, extra: Partial<SshConnectOptions> = {}): SshConnectOptions => ({
    label: "h1",
    user: "root",
    port,
    identityFiles: [lab.clientKey],
    knownHostsFile: lab.knownHostsFile,
    strictHostKeyChecking: "yes",
    connectTimeoutMs: 10_000,
    ...extra,
  });

  describe("one host with sshd's own defaults for MaxStartups, MaxSessions 3", () => {
    before(async () => {
      requireLabTools();
      lab = await startLoopbackLab(1, { sshd: { MaxStartups: "10:30:100", MaxSessions: "3" } });
    });
    after(async () => {
      await lab?.stop();
    });

    it("a command killed by a signal says so, naming the host", async () => {
      const session = await connectSsh(lab.hosts[0]!.address, options(lab.hosts[0]!.port));
      try {
        let error = null as Error | null;
        await session.run("kill -KILL $$").catch((e: Error) => (error = e));
        expect(error?.message).to.match(/^h1: a command mnt ran there was killed by SIGKILL \(/);
      } finally {
        session.close();
      }
    });

    it("a connection lost while a command runs says so, not 'no message'", async () => {
      const session = await connectSsh(lab.hosts[0]!.address, options(lab.hosts[0]!.port));
      let error = null as Error | null;
      // The command's parent is sshd's process for this connection: killing it drops the connection.
      await session.run("kill -KILL $PPID; sleep 5").catch((e: Error) => (error = e));
      session.close();
      expect(error?.message).to.match(/^h1: the SSH connection was lost while a command ran there\b.*\(check the network to the host/);
    });

    it("a channel sshd refuses (MaxSessions) is named with the setting to change", async () => {
      const session = await connectSsh(lab.hosts[0]!.address, options(lab.hosts[0]!.port));
      try {
        const long = [session.run("sleep 2"), session.run("sleep 2"), session.run("sleep 2")];
        await new Promise((resolve) => setTimeout(resolve, 300));
        let error = null as Error | null;
        await session.run("true").catch((e: Error) => (error = e));
        expect(error?.message).to.match(/^h1: sshd refused to open another channel on mnt's connection \(Channel open failure: open failed\) \(.*MaxSessions/);
        expect((await Promise.all(long)).map((r) => r.code)).to.deep.equal([0, 0, 0]);
      } finally {
        session.close();
      }
    });

    it(`${4 * HANDSHAKES_PER_SSHD} logins at once to one sshd (MaxStartups 10:30:100) all succeed, none retried`, async () => {
      const host = lab.hosts[0]!;
      // attempts: 1: a login sshd dropped would fail here rather than be retried.
      const sessions = await Promise.allSettled(Array.from({ length: 4 * HANDSHAKES_PER_SSHD }, () => connectSsh(host.address, options(host.port, { attempts: 1 }))));
      const failed = sessions.flatMap((s) => (s.status === "rejected" ? [(s.reason as Error).message] : []));
      sessions.forEach((s) => s.status === "fulfilled" && s.value.close());
      expect(failed).to.deep.equal([]);
    });
  });
});
