// known_hosts checking (core/connections/ssh/known-hosts.ts) against real keys made by ssh-keygen,
// with OpenSSH's own `ssh-keygen -F` (which matches names the way the ssh client does) as the
// oracle for which lines name a host, and `ssh-keygen -H` / `ssh-keygen -lf` for hashing and
// fingerprints.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { checkHostKey, fingerprint, hostFieldMatches, knownHostsName, readKnownHosts, recordHostKey, type HostKeyStatus } from "../../core/connections/ssh/known-hosts.ts";

interface Key {
  /** The private key file (its .pub next to it). */
  file: string;
  type: string;
  base64: string;
  blob: Buffer;
}

let dir: string;
let fileCount = 0;

function keygen(name: string, type: "ed25519" | "ecdsa" | "rsa"): Key {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", name, "-f", file]);
  const [keyType, base64] = readFileSync(`${file}.pub`, "utf8").trim().split(/\s+/);
  return { file, type: keyType!, base64: base64!, blob: Buffer.from(base64!, "base64") };
}

/** A known_hosts file with these lines (joined with "\n", ending in one). */
function knownHosts(lines: string[]): string {
  const file = path.join(dir, `known_hosts_${++fileCount}`);
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

const entry = (names: string, key: Key) => `${names} ${key.type} ${key.base64}`;

function check(file: string, name: string, key: Key): HostKeyStatus {
  return checkHostKey(readKnownHosts([file]), [name], key.type, key.blob);
}

/** The 1-based lines OpenSSH's `ssh-keygen -F name -f file` finds for `name`. */
function opensshFinds(file: string, name: string): number[] {
  const result = spawnSync("ssh-keygen", ["-F", name, "-f", file], { encoding: "utf8" });
  return [...result.stdout.matchAll(/^# Host .* found: line (\d+)/gm)].map((match) => Number(match[1]));
}

describe("known_hosts (real keys from ssh-keygen, OpenSSH as the oracle)", () => {
  let a: Key;
  let b: Key;
  let ecdsa: Key;
  let rsa: Key;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "mnt-known-hosts-"));
    a = keygen("key_a", "ed25519");
    b = keygen("key_b", "ed25519");
    ecdsa = keygen("key_ecdsa", "ecdsa");
    rsa = keygen("key_rsa", "rsa");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("knownHostsName: the bare host on port 22, [host]:port otherwise", () => {
    expect(knownHostsName("10.0.0.1", 22)).to.equal("10.0.0.1");
    expect(knownHostsName("h1.lab", 2222)).to.equal("[h1.lab]:2222");
    expect(knownHostsName("127.0.0.1", 2201)).to.equal("[127.0.0.1]:2201");
  });

  it("fingerprint() is what `ssh-keygen -lf` prints, for ed25519, ecdsa and rsa keys", () => {
    for (const key of [a, b, ecdsa, rsa]) {
      const printed = execFileSync("ssh-keygen", ["-lf", `${key.file}.pub`], { encoding: "utf8" }).split(" ")[1];
      expect(fingerprint(key.blob), key.type).to.equal(printed);
    }
  });

  it("a plain name: known (with its file and line), and no other name matches it", () => {
    const file = knownHosts([entry("other.lab", b), entry("plain.lab", a)]);
    const status = check(file, "plain.lab", a);
    expect(status.status).to.equal("known");
    expect(status.status === "known" && status.line).to.deep.include({ file, line: 2, marker: "", hostPatterns: "plain.lab", keyType: "ssh-ed25519", key: a.base64 });
    expect(check(file, "plain.lab.example", a)).to.deep.equal({ status: "unknown" });
    expect(check(file, "lab", a)).to.deep.equal({ status: "unknown" });
    // Host names compare without regard to case, as OpenSSH does.
    expect(check(file, "PLAIN.lab", a).status).to.equal("known");
    expect(opensshFinds(file, "PLAIN.lab")).to.deep.equal([2]);
  });

  it("[host]:port names a host on that port only: a port-22 host is not matched by a [host]:2222 line, nor the reverse", () => {
    const file = knownHosts([entry("[ported.lab]:2222", a), entry("bare.lab", b)]);
    expect(check(file, knownHostsName("ported.lab", 2222), a).status).to.equal("known");
    expect(check(file, knownHostsName("ported.lab", 22), a)).to.deep.equal({ status: "unknown" });
    expect(check(file, knownHostsName("ported.lab", 2223), a)).to.deep.equal({ status: "unknown" });
    expect(check(file, knownHostsName("bare.lab", 2222), b)).to.deep.equal({ status: "unknown" });
    expect(check(file, knownHostsName("bare.lab", 22), b).status).to.equal("known");
    // OpenSSH agrees on every one of these names.
    expect(opensshFinds(file, "[ported.lab]:2222")).to.deep.equal([1]);
    expect(opensshFinds(file, "ported.lab")).to.deep.equal([]);
    expect(opensshFinds(file, "[bare.lab]:2222")).to.deep.equal([]);
  });

  it("hashed entries made by `ssh-keygen -H` (plain, [host]:port and comma-list names) are found; other names are not", () => {
    const file = knownHosts([entry("plain.lab", a), entry("[ported.lab]:2222", a), entry("one.lab,two.lab", b)]);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const text = readFileSync(file, "utf8");
    expect(text, "ssh-keygen -H hashed every name").to.not.match(/\.lab/);
    const lines = readKnownHosts([file]);
    expect(lines.map((line) => line.hostPatterns.slice(0, 3))).to.deep.equal(["|1|", "|1|", "|1|", "|1|"]);
    expect(check(file, "plain.lab", a).status).to.equal("known");
    expect(check(file, "[ported.lab]:2222", a).status).to.equal("known");
    expect(check(file, "one.lab", b).status).to.equal("known");
    expect(check(file, "two.lab", b).status).to.equal("known");
    expect(check(file, "ported.lab", a)).to.deep.equal({ status: "unknown" });
    expect(check(file, "three.lab", b)).to.deep.equal({ status: "unknown" });
    expect(hostFieldMatches(lines[0]!.hostPatterns, "plain.lab")).to.equal(true);
    expect(hostFieldMatches(lines[0]!.hostPatterns, "plain.lab2")).to.equal(false);
    expect(hostFieldMatches("|1|broken", "plain.lab")).to.equal(false);
    // A hashed line holding another key for the name is a change, with the hashed line's number.
    const changed = check(file, "two.lab", a);
    expect(changed.status).to.equal("changed");
    expect(changed.status === "changed" && changed.lines.map((line) => line.line)).to.deep.equal([opensshFinds(file, "two.lab")[0]]);
  });

  it("comma lists: each name of the list matches, nothing else does", () => {
    const file = knownHosts([entry("h1.lab,10.0.0.11,[h1.lab]:2222", a)]);
    for (const name of ["h1.lab", "10.0.0.11", "[h1.lab]:2222"]) {
      expect(check(file, name, a).status, name).to.equal("known");
      expect(opensshFinds(file, name), name).to.deep.equal([1]);
    }
    for (const name of ["h1", "10.0.0.1", "[10.0.0.11]:2222", "h1.lab,10.0.0.11"]) {
      expect(check(file, name, a), name).to.deep.equal({ status: "unknown" });
    }
  });

  it("wildcards *.lab, 10.0.0.? and [*.lab]:2222 match the names OpenSSH matches", () => {
    const fields = ["*.lab", "10.0.0.?", "[*.lab]:2222", "h?.lab", "*"];
    const names = ["x.lab", "a.b.lab", "lab", "x.lab.org", "10.0.0.5", "10.0.0.55", "10.0.0.", "[x.lab]:2222", "[x.lab]:22", "h1.lab", "h10.lab", "X.LAB"];
    for (const field of fields) {
      const file = knownHosts([entry(field, a)]);
      for (const name of names) {
        const openssh = opensshFinds(file, name).length > 0;
        expect(hostFieldMatches(field, name), `${field} vs ${name} (OpenSSH: ${openssh})`).to.equal(openssh);
        expect(check(file, name, a).status, `${field} vs ${name}`).to.equal(openssh ? "known" : "unknown");
      }
    }
    // The table above is not vacuous.
    expect(hostFieldMatches("*.lab", "x.lab")).to.equal(true);
    expect(hostFieldMatches("10.0.0.?", "10.0.0.55")).to.equal(false);
    expect(hostFieldMatches("[*.lab]:2222", "[x.lab]:2222")).to.equal(true);
  });

  it("a negation !bad.lab excludes that name from the line's other patterns, as OpenSSH does", () => {
    const file = knownHosts([entry("*.lab,!bad.lab", a), entry("!only.lab", b)]);
    expect(check(file, "good.lab", a).status).to.equal("known");
    expect(check(file, "bad.lab", a)).to.deep.equal({ status: "unknown" });
    expect(opensshFinds(file, "bad.lab")).to.deep.equal([]);
    expect(opensshFinds(file, "good.lab")).to.deep.equal([1]);
    // A line of nothing but a negation names no host.
    expect(hostFieldMatches("!only.lab", "only.lab")).to.equal(false);
    expect(hostFieldMatches("!only.lab", "other.lab")).to.equal(false);
    // The negation wins whichever order the patterns come in.
    expect(hostFieldMatches("!bad.lab,*.lab", "bad.lab")).to.equal(false);
    expect(hostFieldMatches("!bad.lab,*.lab", "good.lab")).to.equal(true);
  });

  it("@revoked: the key is refused (status revoked, with the line) even when another line records it for the host", () => {
    const file = knownHosts([entry("rev.lab", a), `@revoked rev.lab ${a.type} ${a.base64}`]);
    const status = check(file, "rev.lab", a);
    expect(status.status).to.equal("revoked");
    expect(status.status === "revoked" && status.line).to.deep.include({ file, line: 2, marker: "@revoked", key: a.base64 });
    // Another key for the host is not touched by the revocation: it is compared with the recorded ones.
    const other = check(file, "rev.lab", b);
    expect(other.status).to.equal("changed");
    expect(other.status === "changed" && other.lines.map((line) => line.line)).to.deep.equal([1]);
  });

  it("@cert-authority lines are ignored: they neither make a key known nor make another key changed", () => {
    const file = knownHosts([`@cert-authority *.lab ${a.type} ${a.base64}`, `@cert-authority ca.lab ${b.type} ${b.base64}`]);
    expect(readKnownHosts([file]).map((line) => line.marker)).to.deep.equal(["@cert-authority", "@cert-authority"]);
    expect(check(file, "ca.lab", a)).to.deep.equal({ status: "unknown" });
    expect(check(file, "ca.lab", b)).to.deep.equal({ status: "unknown" });
  });

  it("comments, blank lines, indented lines and short lines: skipped, and line numbers still count them", () => {
    const file = knownHosts(["# a comment", "", "   ", `  # indented comment ${entry("c.lab", b)}`, "broken.lab ssh-ed25519", `  ${entry("c.lab", a)}`]);
    const lines = readKnownHosts([file, path.join(dir, "no-such-file")]);
    expect(lines.map((line) => [line.hostPatterns, line.line])).to.deep.equal([["c.lab", 6]]);
    expect(check(file, "c.lab", a).status).to.equal("known");
    expect(check(file, "broken.lab", a)).to.deep.equal({ status: "unknown" });
    expect(opensshFinds(file, "c.lab")).to.deep.equal([6]);
  });

  it("lines are read from every file given, in order, each with its own file name", () => {
    const first = knownHosts([entry("f.lab", b)]);
    const second = knownHosts(["# second", entry("f.lab", a)]);
    const status = checkHostKey(readKnownHosts([first, second]), ["f.lab"], a.type, a.blob);
    expect(status.status === "known" && [status.line.file, status.line.line]).to.deep.equal([second, 2]);
  });

  it("a changed key: status changed, listing every line that records another key for the host, with its line number", () => {
    const file = knownHosts(["# lab", entry("other.lab", a), entry("moved.lab", a), entry("10.0.0.7,moved.lab", a)]);
    const status = check(file, "moved.lab", b);
    expect(status.status).to.equal("changed");
    expect(status.status === "changed" && status.lines.map((line) => [line.file, line.line, line.key])).to.deep.equal([
      [file, 3, a.base64],
      [file, 4, a.base64],
    ]);
    expect(opensshFinds(file, "moved.lab")).to.deep.equal([3, 4]);
  });

  it("a key of another type than the recorded one is 'changed', not new: mnt asks for the recorded types first, so a host offering another type lost its recorded key (a downgrade otherwise)", () => {
    const file = knownHosts([entry("typed.lab", ecdsa)]);
    const status = check(file, "typed.lab", a);
    expect(status.status).to.equal("changed");
    expect(status.status === "changed" && status.lines.map((line) => [line.line, line.keyType])).to.deep.equal([[1, ecdsa.type]]);
    // With both types recorded, either key is known.
    const both = knownHosts([entry("typed.lab", ecdsa), entry("typed.lab", a)]);
    expect(check(both, "typed.lab", a).status).to.equal("known");
    expect(check(both, "typed.lab", ecdsa).status).to.equal("known");
  });

  it("recordHostKey appends a line OpenSSH's `ssh-keygen -F` then finds (port 22 and [host]:port), creating the folder and file", () => {
    const file = path.join(dir, "new-folder", "deeper", "known_hosts");
    recordHostKey(file, knownHostsName("10.0.0.21", 22), a.type, a.blob);
    recordHostKey(file, knownHostsName("rec.lab", 2222), ecdsa.type, ecdsa.blob);
    expect(readFileSync(file, "utf8")).to.equal(`10.0.0.21 ${a.type} ${a.base64}\n[rec.lab]:2222 ${ecdsa.type} ${ecdsa.base64}\n`);
    expect(opensshFinds(file, "10.0.0.21")).to.deep.equal([1]);
    expect(opensshFinds(file, "[rec.lab]:2222")).to.deep.equal([2]);
    expect(opensshFinds(file, "rec.lab")).to.deep.equal([]);
    expect(check(file, "10.0.0.21", a).status).to.equal("known");
    expect(check(file, "[rec.lab]:2222", ecdsa).status).to.equal("known");
    // `ssh-keygen -F` prints the line it found: the very key we recorded.
    const found = execFileSync("ssh-keygen", ["-F", "[rec.lab]:2222", "-f", file], { encoding: "utf8" });
    expect(found).to.include(`[rec.lab]:2222 ${ecdsa.type} ${ecdsa.base64}`);
  });

  it("recordHostKey after a last line without a newline starts a new line", () => {
    const file = path.join(dir, "known_hosts_no_newline");
    writeFileSync(file, entry("old.lab", b));
    recordHostKey(file, "new.lab", a.type, a.blob);
    expect(readFileSync(file, "utf8").split("\n")).to.deep.equal([entry("old.lab", b), entry("new.lab", a), ""]);
    expect(opensshFinds(file, "new.lab")).to.deep.equal([2]);
    expect(opensshFinds(file, "old.lab")).to.deep.equal([1]);
  });
});
