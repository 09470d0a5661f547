// Resolving where and how to reach a host (core/connections/ssh/resolve.ts): through `ssh -G` with
// an ssh_config given as sshConfigFile (Host aliases, Include, Match, ProxyJump), the inventory's
// own values winning over the config; jump specs; and the fallback parser used when the OpenSSH
// client is missing, run in a process of its own whose PATH has no `ssh` (the module remembers
// whether the client exists).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { MntError } from "../../core/errors.ts";
import { parseJumpSpec, resolveTarget, type SshTarget } from "../../core/connections/ssh/resolve.ts";
import { repoRoot } from "../helpers/mnt.ts";

const execFileAsync = promisify(execFile);
const home = (...parts: string[]) => path.join(os.homedir(), ...parts);

describe("resolving SSH targets", () => {
  let dir: string;
  let config: string;
  let included: string;
  const file = (name: string) => path.join(dir, name);

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-resolve-"));
    included = file("included_config");
    config = file("ssh_config");
    writeFileSync(
      included,
      ["Host inc1", "  HostName 10.2.2.2", "  User incuser", "  Port 2022", `  IdentityFile ${file("inc_key")}`, ""].join("\n"),
    );
    writeFileSync(
      config,
      [
        `Include ${included}`,
        "",
        "Host alias1",
        "  HostName 10.1.1.1",
        "  Port 2222",
        "  User bob",
        `  IdentityFile ${file("id_one")}`,
        "  IdentityFile ~/id_two",
        `  UserKnownHostsFile ${file("known_hosts")}`,
        "  GlobalKnownHostsFile /dev/null",
        "",
        "Host jumped",
        "  HostName 10.3.3.3",
        "  User carol",
        "  ProxyJump alice@bastion.lab:2200,inner-jump",
        "",
        "Host aliased-key",
        "  HostName 10.4.4.4",
        "  HostKeyAlias stable-name",
        "",
        "Host *.inner",
        "  User innerwild",
        "",
        // Match host tests the name after a HostName set above it: the literal address and an alias to it match.
        "Host to-matched",
        "  HostName 10.9.9.9",
        "",
        "Match host 10.9.9.9",
        "  User matched",
        "  Port 2299",
        "",
      ].join("\n"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("with the OpenSSH client (ssh -G)", () => {
    it("HostName, Port, User, IdentityFile (~ expanded) and UserKnownHostsFile come from a Host alias", async () => {
      const target = await resolveTarget("alias1", { sshConfigFile: config });
      expect(target).to.deep.equal({
        given: "alias1",
        hostname: "10.1.1.1",
        port: 2222,
        user: "bob",
        identityFiles: [file("id_one"), home("id_two")],
        jump: [],
        knownHostsFiles: [file("known_hosts"), "/dev/null"],
        hostKeyAlias: null,
      } satisfies SshTarget);
    });

    it("a host from an Included file resolves", async () => {
      const target = await resolveTarget("inc1", { sshConfigFile: config });
      expect([target.hostname, target.port, target.user, target.identityFiles]).to.deep.equal(["10.2.2.2", 2022, "incuser", [file("inc_key")]]);
    });

    it("a Match host block applies to the address and to an alias whose HostName (set above it) it is", async () => {
      for (const given of ["10.9.9.9", "to-matched"]) {
        const target = await resolveTarget(given, { sshConfigFile: config });
        expect([target.hostname, target.port, target.user], given).to.deep.equal(["10.9.9.9", 2299, "matched"]);
      }
      const wild = await resolveTarget("box.inner", { sshConfigFile: config });
      expect([wild.hostname, wild.user]).to.deep.equal(["box.inner", "innerwild"]);
    });

    it("a ProxyJump list becomes the jump chain, outermost first", async () => {
      const target = await resolveTarget("jumped", { sshConfigFile: config });
      expect(target.jump).to.deep.equal(["alice@bastion.lab:2200", "inner-jump"]);
      expect([target.hostname, target.user]).to.deep.equal(["10.3.3.3", "carol"]);
    });

    it("HostKeyAlias is kept as the name to check the host key under", async () => {
      expect((await resolveTarget("aliased-key", { sshConfigFile: config })).hostKeyAlias).to.equal("stable-name");
      expect((await resolveTarget("alias1", { sshConfigFile: config })).hostKeyAlias).to.equal(null);
    });

    it("the inventory's user, port, identityFiles and jump win over the config (its keys tried first, then the config's)", async () => {
      const target = await resolveTarget("alias1", {
        sshConfigFile: config,
        user: "inventory-user",
        port: 2400,
        identityFiles: [file("inventory_key")],
        jump: ["root@10.0.0.1"],
      });
      expect(target.hostname).to.equal("10.1.1.1");
      expect([target.user, target.port]).to.deep.equal(["inventory-user", 2400]);
      expect(target.identityFiles).to.deep.equal([file("inventory_key"), file("id_one"), home("id_two")]);
      expect(target.jump).to.deep.equal(["root@10.0.0.1"]);
      // The same file named by the inventory and the config is tried once.
      const twice = await resolveTarget("alias1", { sshConfigFile: config, identityFiles: [file("id_one")] });
      expect(twice.identityFiles).to.deep.equal([file("id_one"), home("id_two")]);
      // An empty inventory jump list leaves the config's ProxyJump in force.
      expect((await resolveTarget("jumped", { sshConfigFile: config, jump: [] })).jump).to.deep.equal(["alice@bastion.lab:2200", "inner-jump"]);
    });

    it("the inventory's user and port reach ssh -G, so Match blocks see them", async () => {
      const config2 = file("ssh_config_match_user");
      writeFileSync(config2, ["Match user deploy", "  Port 2500", "Host *", "  User nobody-default", ""].join("\n"));
      const target = await resolveTarget("10.5.5.5", { sshConfigFile: config2, user: "deploy" });
      expect([target.user, target.port]).to.deep.equal(["deploy", 2500]);
    });

    it("knownHostsFile replaces every known_hosts file the config names", async () => {
      const target = await resolveTarget("alias1", { sshConfigFile: config, knownHostsFile: file("inventory_known_hosts") });
      expect(target.knownHostsFiles).to.deep.equal([file("inventory_known_hosts")]);
    });

    it("`user@host:port` and `[host]:port` as the address: their user and port win over the config", async () => {
      const colon = await resolveTarget("dave@alias1:2600", { sshConfigFile: config });
      expect([colon.given, colon.hostname, colon.user, colon.port]).to.deep.equal(["dave@alias1:2600", "10.1.1.1", "dave", 2600]);
      const bracket = await resolveTarget("[alias1]:2700", { sshConfigFile: config });
      expect([bracket.hostname, bracket.user, bracket.port]).to.deep.equal(["10.1.1.1", "bob", 2700]);
      // The inventory's own values win over the spec's.
      const both = await resolveTarget("dave@alias1:2600", { sshConfigFile: config, user: "erin", port: 2800 });
      expect([both.user, both.port]).to.deep.equal(["erin", 2800]);
    });

    it("a broken ssh_config is a config error naming the host and ssh's complaint", async () => {
      const broken = file("ssh_config_broken");
      writeFileSync(broken, "Host x\n  NoSuchOption yes\n");
      let caught: unknown;
      await resolveTarget("x", { sshConfigFile: broken }).catch((error: unknown) => (caught = error));
      expect(caught).to.be.instanceOf(MntError);
      expect((caught as MntError).code).to.equal("config");
      expect((caught as MntError).message).to.equal(`x: ssh -G failed: ${broken}: line 2: Bad configuration option: nosuchoption (check your ssh config)`);
    });
  });

  describe("parseJumpSpec", () => {
    it("splits user@host:port, [host]:port and plain names", () => {
      expect(parseJumpSpec("root@10.0.0.1:2222")).to.deep.equal({ host: "10.0.0.1", user: "root", port: 2222 });
      expect(parseJumpSpec("root@10.0.0.1")).to.deep.equal({ host: "10.0.0.1", user: "root", port: undefined });
      expect(parseJumpSpec("bastion:22")).to.deep.equal({ host: "bastion", user: undefined, port: 22 });
      expect(parseJumpSpec("[bastion.lab]:2200")).to.deep.equal({ host: "bastion.lab", user: undefined, port: 2200 });
      expect(parseJumpSpec("ops@[fe80::1]:2201")).to.deep.equal({ host: "fe80::1", user: "ops", port: 2201 });
      expect(parseJumpSpec("jump-alias")).to.deep.equal({ host: "jump-alias", user: undefined, port: undefined });
      // A bare IPv6 address has no port to split off.
      expect(parseJumpSpec("fe80::1")).to.deep.equal({ host: "fe80::1", user: undefined, port: undefined });
      // The last @ separates the user (a user name may itself hold an @).
      expect(parseJumpSpec("me@corp@gw.lab:22")).to.deep.equal({ host: "gw.lab", user: "me@corp", port: 22 });
    });
  });

  describe("without the OpenSSH client (the fallback parser)", () => {
    /** Runs resolveTarget for each address in a process whose PATH has no ssh; returns the targets. */
    async function resolveWithoutSsh(addresses: string[], sshConfigFile: string): Promise<SshTarget[]> {
      const script = file(`fallback-${addresses.length}-${path.basename(sshConfigFile)}.mts`);
      const resolveModule = path.join(repoRoot, "core", "connections", "ssh", "resolve.ts");
      writeFileSync(
        script,
        [
          `import { resolveTarget } from ${JSON.stringify(resolveModule)};`,
          `const addresses = ${JSON.stringify(addresses)};`,
          `const targets = [];`,
          `for (const address of addresses) targets.push(await resolveTarget(address, { sshConfigFile: ${JSON.stringify(sshConfigFile)} }));`,
          `process.stdout.write(JSON.stringify(targets));`,
          "",
        ].join("\n"),
      );
      const empty = file("empty-bin");
      const { stdout } = await execFileAsync(process.execPath, ["--import=tsx", script], {
        cwd: repoRoot,
        env: { ...process.env, PATH: empty },
      });
      return JSON.parse(stdout) as SshTarget[];
    }

    it("the child really has no ssh on its PATH", async () => {
      const { stdout } = await execFileAsync(process.execPath, ["-e", "require('child_process').execFile('ssh', ['-V'], (e) => console.log(e && e.code))"], {
        env: { ...process.env, PATH: file("empty-bin") },
      });
      expect(stdout.trim()).to.equal("ENOENT");
    });

    it("HostName, Port, User, IdentityFile, ProxyJump and UserKnownHostsFile come from the config file; Match host applies", async () => {
      const [alias, jumped, matched, unlisted] = await resolveWithoutSsh(["alias1", "jumped", "10.9.9.9", "nowhere.lab"], config);
      expect(alias).to.deep.equal({
        given: "alias1",
        hostname: "10.1.1.1",
        port: 2222,
        user: "bob",
        identityFiles: [file("id_one"), home("id_two")],
        jump: [],
        knownHostsFiles: [file("known_hosts")],
        hostKeyAlias: null,
      } satisfies SshTarget);
      expect([jumped!.hostname, jumped!.user, jumped!.jump]).to.deep.equal(["10.3.3.3", "carol", ["alice@bastion.lab:2200", "inner-jump"]]);
      expect([matched!.hostname, matched!.port, matched!.user]).to.deep.equal(["10.9.9.9", 2299, "matched"]);
      // A host the config does not name gets OpenSSH's defaults.
      expect([unlisted!.hostname, unlisted!.port, unlisted!.user]).to.deep.equal(["nowhere.lab", 22, os.userInfo().username]);
      expect(unlisted!.identityFiles).to.deep.equal([home(".ssh", "id_ed25519"), home(".ssh", "id_ecdsa"), home(".ssh", "id_rsa")]);
      expect(unlisted!.knownHostsFiles).to.deep.equal([home(".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts"]);
    });

    it("keywords are case-insensitive, as in OpenSSH (hostname, port, user written in lower case); the first value wins", async () => {
      const lower = file("ssh_config_lower");
      writeFileSync(lower, ["host low", "  hostname 10.6.6.6", "  port 2666", "  user lowuser", "  identityfile /keys/first", "", "Host *", "  User later", "  IdentityFile /keys/second", ""].join("\n"));
      const [target] = await resolveWithoutSsh(["low"], lower);
      expect([target!.hostname, target!.port, target!.user, target!.identityFiles]).to.deep.equal(["10.6.6.6", 2666, "lowuser", ["/keys/first", "/keys/second"]]);
      // ssh -G reads the same file the same way.
      const real = await resolveTarget("low", { sshConfigFile: lower });
      expect([real.hostname, real.port, real.user, real.identityFiles]).to.deep.equal(["10.6.6.6", 2666, "lowuser", ["/keys/first", "/keys/second"]]);
    });
  });
});
