import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exitCodeFor } from "../../cli/exit-codes.ts";
import { MntError } from "../../core/errors.ts";
import { ConfigError, loadInventory, parseInventory, type HostEntry } from "../../core/hosts/inventory.ts";
import { FIELDS } from "../../core/hosts/schema.ts";

const EXAMPLE = fileURLToPath(new URL("../../hosts.example.yaml", import.meta.url));
const home = (...parts: string[]) => path.join(os.homedir(), ...parts);

/** The error lines parsing `text` (named hosts.yaml) reports; fails if it parses. */
function errorsOf(text: string, file = "hosts.yaml"): string[] {
  try {
    parseInventory(text, file);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect(error).to.be.instanceOf(MntError);
    const config = error as ConfigError;
    expect(config.code).to.equal("config");
    expect(config.message).to.equal(config.errors[0]);
    return config.errors;
  }
  expect.fail(`parsed without errors:\n${text}`);
}

/** Asserts that `text` gives exactly one error line, `expected`. */
const rejects = (text: string, expected: string) => expect(errorsOf(text)).to.deep.equal([expected]);

const hostsOf = (text: string, file = "hosts.yaml"): HostEntry[] => parseInventory(text, file).hosts;

describe("hosts inventory", () => {
  describe("hosts.example.yaml", () => {
    it("parses and gives the documented values", () => {
      const inventory = loadInventory(EXAMPLE);
      expect(inventory.file).to.equal(EXAMPLE);
      const [fast, pi, board, runner, box] = inventory.hosts;
      expect(inventory.hosts).to.have.length(5);
      expect(fast).to.deep.equal({
        name: "fast-1",
        address: "10.0.0.11",
        user: "alice",
        port: 22,
        identityFiles: [home(".ssh/id_ed25519")],
        slots: 16,
        node: "node",
        workDir: "~/.cache/mnt",
        tags: ["x64", "fast"],
        jump: [],
        launch: null,
        strictHostKeyChecking: "yes",
        connectTimeoutMs: 10000,
        position: { line: 25, col: 5 },
      });
      expect(pi).to.deep.include({ name: "pi4.lab", address: "pi4.lab", user: "pi", port: 22, slots: 4, node: "/opt/node20/bin/node" });
      expect(pi!.tags).to.deep.equal(["arm64"]);
      expect(pi!.position).to.deep.equal({ line: 29, col: 5 });
      expect(board).to.deep.include({ name: "old-arm-board", node: "ship" });
      expect(runner).to.deep.include({
        name: "build-runner",
        user: "alice",
        port: 2222,
        slots: "auto",
        strictHostKeyChecking: "accept-new",
        knownHostsFile: home(".ssh/known_hosts_lab"),
        sshConfigFile: home(".ssh/lab_config"),
      });
      expect(runner!.jump).to.deep.equal(["bastion.example.org"]);
      expect(runner!.tags).to.deep.equal([]);
      expect(runner!.position).to.deep.equal({ line: 36, col: 5 });
      expect(box).to.deep.include({ name: "build-box", slots: 4 });
      expect(box!.launch).to.deep.equal(["docker", "exec", "-i", "build-box", "--"]);
    });

    it("shows every field, each with a comment", () => {
      const text = readFileSync(EXAMPLE, "utf8");
      for (const field of new Set([...FIELDS.root, ...FIELDS.host])) {
        expect(text, field).to.match(new RegExp(`^\\s*(- )?${field}:[^\\n]*#`, "m"));
      }
    });
  });

  describe("defaults", () => {
    it("fills in the built-in defaults and leaves user and port to OpenSSH", () => {
      const [host] = hostsOf("hosts:\n  - address: box\n");
      expect(host).to.deep.equal({
        name: "box",
        address: "box",
        identityFiles: [],
        slots: "auto",
        node: "node",
        workDir: "~/.cache/mnt",
        tags: [],
        jump: [],
        launch: null,
        strictHostKeyChecking: "yes",
        connectTimeoutMs: 10000,
        position: { line: 2, col: 5 },
      });
      expect(host).not.to.have.property("user");
      expect(host).not.to.have.property("port");
      expect(host).not.to.have.property("knownHostsFile");
      expect(host).not.to.have.property("sshConfigFile");
    });

    it("apply to every host; a host's own value wins; lists are replaced, not merged", () => {
      const text = [
        "defaults:",
        "  user: deploy",
        "  port: 2200",
        "  tags: [a, b]",
        "  jump: [bastion]",
        "  slots: 2",
        "  connectTimeoutMs: 5000",
        "hosts:",
        "  - address: one",
        "  - address: two",
        "    user: root",
        "    tags: [c]",
        "    jump: []",
        "    slots: auto",
        "",
      ].join("\n");
      const [one, two] = hostsOf(text);
      expect(one).to.deep.include({ user: "deploy", port: 2200, slots: 2, connectTimeoutMs: 5000 });
      expect(one!.tags).to.deep.equal(["a", "b"]);
      expect(one!.jump).to.deep.equal(["bastion"]);
      expect(two).to.deep.include({ user: "root", port: 2200, slots: "auto", connectTimeoutMs: 5000 });
      expect(two!.tags).to.deep.equal(["c"]);
      expect(two!.jump).to.deep.equal([]);
    });

    it("an empty defaults: is no defaults", () => {
      const [host] = hostsOf("defaults:\nhosts:\n  - address: box\n");
      expect(host!.slots).to.equal("auto");
    });
  });

  describe("values", () => {
    it("name defaults to the address and may differ from it", () => {
      const hosts = hostsOf("hosts:\n  - address: a.lab\n  - address: a.lab\n    name: a-again\n");
      expect(hosts.map((h) => h.name)).to.deep.equal(["a.lab", "a-again"]);
    });

    it("strictHostKeyChecking: yes is accepted as YAML 1.2 reads it (a string) and as YAML 1.1 does (true)", () => {
      expect(hostsOf("hosts:\n  - address: a\n    strictHostKeyChecking: yes\n")[0]!.strictHostKeyChecking).to.equal("yes");
      expect(hostsOf("%YAML 1.1\n---\nhosts:\n  - address: a\n    strictHostKeyChecking: yes\n")[0]!.strictHostKeyChecking).to.equal("yes");
      expect(hostsOf("hosts:\n  - address: a\n    strictHostKeyChecking: true\n")[0]!.strictHostKeyChecking).to.equal("yes");
      expect(hostsOf("hosts:\n  - address: a\n    strictHostKeyChecking: accept-new\n")[0]!.strictHostKeyChecking).to.equal("accept-new");
    });

    it("positions are the host entries', also in flow style", () => {
      const hosts = hostsOf("# hosts\nhosts:\n  - address: a\n\n  -   address: b\n  - {address: c}\n");
      expect(hosts.map((h) => h.position)).to.deep.equal([
        { line: 3, col: 5 },
        { line: 5, col: 7 },
        { line: 6, col: 5 },
      ]);
    });

    describe("~ expansion", () => {
      const savedHome = process.env.HOME;
      afterEach(() => {
        if (savedHome === undefined) delete process.env.HOME;
        else process.env.HOME = savedHome;
      });

      it("identityFiles, knownHostsFile and sshConfigFile expand ~ with os.homedir(); workDir keeps its ~ (the remote home)", () => {
        process.env.HOME = "/home/somebody-else"; // os.homedir() reads $HOME on POSIX
        expect(os.homedir()).to.equal("/home/somebody-else");
        const [host] = hostsOf(
          [
            "hosts:",
            "  - address: a",
            "    identityFiles: [~/.ssh/id_ed25519, '~', /etc/keys/k]", // a bare ~ is YAML's null
            "    knownHostsFile: ~/.ssh/kh",
            "    sshConfigFile: ~/.ssh/cfg",
            "    workDir: ~/.cache/mnt-test",
            "",
          ].join("\n"),
        );
        expect(host!.identityFiles).to.deep.equal(["/home/somebody-else/.ssh/id_ed25519", "/home/somebody-else", "/etc/keys/k"]);
        expect(host!.knownHostsFile).to.equal("/home/somebody-else/.ssh/kh");
        expect(host!.sshConfigFile).to.equal("/home/somebody-else/.ssh/cfg");
        expect(host!.workDir).to.equal("~/.cache/mnt-test");
      });

      it("the default workDir keeps its ~ too", () => {
        expect(hostsOf("hosts:\n  - address: a\n")[0]!.workDir).to.equal("~/.cache/mnt");
      });

      it("relative local paths are relative to the inventory file's folder", () => {
        const [host] = hostsOf("hosts:\n  - address: a\n    identityFiles: [keys/id]\n    knownHostsFile: kh\n", "/etc/mnt/hosts.yaml");
        expect(host!.identityFiles).to.deep.equal(["/etc/mnt/keys/id"]);
        expect(host!.knownHostsFile).to.equal("/etc/mnt/kh");
      });
    });
  });

  describe("errors, one line each, at the offending node", () => {
    it("a port that is not a number", () => {
      rejects(
        "hosts:\n  - address: a\n  - address: b\n  - address: c\n    port: twenty-two\n",
        "hosts.yaml:5:11: hosts[2].port: expected a number",
      );
    });

    it("a port out of range or not whole", () => {
      rejects("hosts:\n  - address: a\n    port: 0\n", "hosts.yaml:3:11: hosts[0].port: expected a whole number from 1 to 65535");
      rejects("hosts:\n  - address: a\n    port: 65536\n", "hosts.yaml:3:11: hosts[0].port: expected a whole number from 1 to 65535");
      rejects("hosts:\n  - address: a\n    port: 22.5\n", "hosts.yaml:3:11: hosts[0].port: expected a whole number from 1 to 65535");
    });

    it("an empty value points at its key", () => {
      rejects("hosts:\n  - address: a\n    port:\n", "hosts.yaml:3:5: hosts[0].port: expected a number");
    });

    it("slots", () => {
      rejects("hosts:\n  - address: a\n    slots: many\n", "hosts.yaml:3:12: hosts[0].slots: expected a number or auto");
      rejects("hosts:\n  - address: a\n    slots: 0\n", "hosts.yaml:3:12: hosts[0].slots: expected a whole number of at least 1, or auto");
    });

    it("connectTimeoutMs", () => {
      rejects("defaults:\n  connectTimeoutMs: soon\nhosts:\n  - address: a\n", "hosts.yaml:2:21: defaults.connectTimeoutMs: expected a number");
    });

    it("strictHostKeyChecking", () => {
      rejects("hosts:\n  - address: a\n    strictHostKeyChecking: no\n", "hosts.yaml:3:28: hosts[0].strictHostKeyChecking: expected yes or accept-new");
    });

    it("lists of strings", () => {
      rejects("hosts:\n  - address: a\n    tags: gpu\n", "hosts.yaml:3:11: hosts[0].tags: expected a list of strings");
      rejects("hosts:\n  - address: a\n    tags: [gpu, 3]\n", "hosts.yaml:3:17: hosts[0].tags[1]: expected a string");
      rejects("defaults:\n  identityFiles:\n    - ~/.ssh/a\n    - ~bob/.ssh/b\nhosts:\n  - address: a\n",
        "hosts.yaml:4:7: defaults.identityFiles[1]: expected a path (~ and ~/ are expanded, ~user is not)");
    });

    it("launch: a host reached by a command has a name, no address and no SSH settings of its own", () => {
      const inventory = parseInventory("defaults:\n  user: bob\nhosts:\n  - name: box\n    launch: [docker, exec, -i, box, --]\n  - address: web\n", "hosts.yaml");
      expect(inventory.hosts[0]).to.deep.include({ name: "box", launch: ["docker", "exec", "-i", "box", "--"] });
      expect(inventory.hosts[1]).to.deep.include({ name: "web", address: "web", launch: null, user: "bob" });
      expect(errorsOf("hosts:\n  - address: a\n    launch: [x]\n")).to.deep.equal([
        "hosts.yaml:2:5: hosts[0].name: required with launch (how the host is named in output)",
        "hosts.yaml:3:13: hosts[0].launch: a host has an address (reached over SSH) or launch (reached by that command), not both",
      ]);
      rejects("hosts:\n  - name: b\n    launch: [x]\n    port: 22\n", "hosts.yaml:4:11: hosts[0].port: an SSH setting, not used with launch (remove it)");
      rejects("hosts:\n  - name: b\n    launch: []\n", "hosts.yaml:3:13: hosts[0].launch: expected a command as a list of words, e.g. [docker, exec, -i, box, --]");
      rejects("hosts:\n  - name: b\n    launch: docker exec box\n", "hosts.yaml:3:13: hosts[0].launch: expected a command as a list of words, e.g. [docker, exec, -i, box, --]");
      rejects("defaults:\n  launch: [x]\nhosts:\n  - address: a\n", "hosts.yaml:2:3: defaults.launch: unknown field");
    });

    it("a missing address points at the host's mapping", () => {
      rejects("hosts:\n  - address: a\n  - name: web\n    port: 22\n", "hosts.yaml:3:5: hosts[1].address: required (an SSH host name or IP), or launch: a command that reaches the host");
    });

    it("an address ssh would read as an option", () => {
      rejects(
        "hosts:\n  - address: -oProxyCommand=touch\n",
        "hosts.yaml:2:14: hosts[0].address: expected a host name, IP or ~/.ssh/config alias (no spaces, not starting with -)",
      );
    });

    it("a missing hosts list points at the top mapping", () => {
      rejects("# my cluster\ndefaults:\n  user: a\n", "hosts.yaml:2:1: hosts: required");
    });

    it("a host that is not a mapping", () => {
      rejects("hosts:\n  - address: a\n  - b.lab\n", "hosts.yaml:3:5: hosts[1]: expected a mapping with an address (or launch)");
    });

    it("a top level that is not a mapping", () => {
      rejects("- address: a\n", "hosts.yaml:1:1: expected a mapping with a hosts list");
    });

    it("columns in flow style", () => {
      rejects("hosts: [{address: a, port: x}]\n", "hosts.yaml:1:28: hosts[0].port: expected a number");
    });

    it("an unknown field, with a did-you-mean when one is close", () => {
      rejects("hosts:\n  - address: a\n    prot: 22\n", "hosts.yaml:3:5: hosts[0].prot: unknown field (did you mean port?)");
      rejects("hosts:\n  - address: a\n    identityFile: [k]\n", "hosts.yaml:3:5: hosts[0].identityFile: unknown field (did you mean identityFiles?)");
      expect(errorsOf("hosts:\n  - hostname: a\n")).to.deep.equal([
        "hosts.yaml:2:5: hosts[0].hostname: unknown field (did you mean address?)",
        "hosts.yaml:2:5: hosts[0].address: required (an SSH host name or IP), or launch: a command that reaches the host",
      ]);
      rejects("hosts:\n  - address: a\n    colour: red\n", "hosts.yaml:3:5: hosts[0].colour: unknown field");
      rejects("hosts:\n  - address: a\nDefaults: {}\n", "hosts.yaml:3:1: Defaults: unknown field (did you mean defaults?)");
    });

    it("a misspelt hosts: the unknown field first, then what is missing", () => {
      expect(errorsOf("host:\n  - address: a\n")).to.deep.equal([
        "hosts.yaml:1:1: host: unknown field (did you mean hosts?)",
        "hosts.yaml:1:1: hosts: required",
      ]);
    });

    it("address and name are not defaults", () => {
      rejects("defaults:\n  address: x\nhosts:\n  - address: a\n", "hosts.yaml:2:3: defaults.address: not allowed in defaults (each host sets its own)");
    });

    it("uses the file name as given", () => {
      expect(errorsOf("hosts:\n  - address: a\n    port: x\n", "conf/lab hosts.yml")).to.deep.equal(["conf/lab hosts.yml:3:11: hosts[0].port: expected a number"]);
    });

    it("reports every problem, in file order", () => {
      const text = [
        "defaults:", //                     1
        "  slots: 0", //                    2
        "hosts:", //                        3
        "  - address: a", //                4
        "    port: 70000", //               5
        "    tags: [x, 1]", //              6
        "  - name: b", //                   7
        "    strictHostKeyChecking: maybe", // 8
        "    prot: 22", //                  9
        "",
      ].join("\n");
      const errors = errorsOf(text);
      expect(errors).to.deep.equal([
        "hosts.yaml:2:10: defaults.slots: expected a whole number of at least 1, or auto",
        "hosts.yaml:5:11: hosts[0].port: expected a whole number from 1 to 65535",
        "hosts.yaml:6:15: hosts[0].tags[1]: expected a string",
        "hosts.yaml:7:5: hosts[1].address: required (an SSH host name or IP), or launch: a command that reaches the host",
        "hosts.yaml:8:28: hosts[1].strictHostKeyChecking: expected yes or accept-new",
        "hosts.yaml:9:5: hosts[1].prot: unknown field (did you mean port?)",
      ]);
    });

    it("duplicate names point at the second host", () => {
      rejects(
        "hosts:\n  - address: a\n    name: web\n  - address: b\n  - address: c\n    name: web\n",
        'hosts.yaml:6:11: hosts[2].name: the name "web" is already used by hosts[0]',
      );
      rejects(
        "hosts:\n  - address: web\n  - address: b\n    name: web\n",
        'hosts.yaml:4:11: hosts[1].name: the name "web" is already used by hosts[0]',
      );
      rejects(
        "hosts:\n  - address: a.lab\n  - address: a.lab\n",
        'hosts.yaml:3:14: hosts[1].address: the name "a.lab" is already used by hosts[0] (give one of them a name)',
      );
    });

    it("duplicate names are reported along with other problems", () => {
      expect(errorsOf("hosts:\n  - address: a\n    port: x\n  - address: a\n")).to.deep.equal([
        "hosts.yaml:3:11: hosts[0].port: expected a number",
        'hosts.yaml:4:14: hosts[1].address: the name "a" is already used by hosts[0] (give one of them a name)',
      ]);
    });

    it("YAML syntax errors", () => {
      rejects("hosts:\n- address: a\n  tags: [a, b]]\n", 'hosts.yaml:3:15: Unexpected flow-seq-end token in YAML stream: "]"');
      rejects("hosts:\n\t- address: a\n", "hosts.yaml:2:1: Tabs are not allowed as indentation");
      rejects("hosts:\n  - address: a\n    port: 22\n    port: 23\n", "hosts.yaml:4:5: Map keys must be unique");
      for (const line of errorsOf("hosts:\n  - address: 'a\n")) expect(line).to.match(/^hosts\.yaml:\d+:\d+: [^\n]+$/);
    });

    it("an empty file", () => {
      rejects("", "hosts.yaml:1:1: the file is empty (expected a mapping with a hosts list)");
      rejects("# nothing yet\n", "hosts.yaml:1:1: the file is empty (expected a mapping with a hosts list)");
    });

    it("hosts: []", () => {
      rejects("hosts: []\n", "hosts.yaml:1:8: hosts: expected at least one host");
    });
  });

  describe("loadInventory", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), "mnt-inventory-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the file", () => {
      const file = path.join(dir, "hosts.yaml");
      writeFileSync(file, "hosts:\n  - address: a\n    identityFiles: [id]\n");
      const inventory = loadInventory(file);
      expect(inventory.file).to.equal(file);
      expect(inventory.hosts[0]!.identityFiles).to.deep.equal([path.join(dir, "id")]);
    });

    it("a missing file is a config error (exit 78) that says to check the path", () => {
      const file = path.join(dir, "nope.yaml");
      let caught: unknown;
      try {
        loadInventory(file);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error.code).to.equal("config");
      expect(error.message).to.equal(`${file}: no such file (check the path)`);
      expect(error.errors).to.deep.equal([`${file}: no such file`]);
      expect(exitCodeFor(error)).to.equal(78);
    });

    it("reports problems under the path as given", () => {
      const file = path.join(dir, "bad.yaml");
      writeFileSync(file, "hosts: []\n");
      expect(() => loadInventory(file)).to.throw(ConfigError, `${file}:1:8: hosts: expected at least one host`);
    });
  });
});
