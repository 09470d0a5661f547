// The npm package as a user gets it. `npm pack` runs in a copy of this checkout without dist/, so
// the pack's own lifecycle script must build dist/ (as it does for `npm publish`), and the shared
// checkout's dist/ is never rebuilt under other tests. The tarball is then installed the two ways
// Node CLIs are: into a fresh project as a dependency (run with `npx mnt`), and globally into a
// temporary prefix (run as `<prefix>/bin/mnt`), with the npm registry for its dependencies. Every
// mnt command below runs from the installed package, never from the checkout, with the
// environment a user has (no tsx, no npm script variables, CI=true, no stdin).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../helpers/mnt.ts";
import { requireLabTools, startLoopbackLab, type Lab } from "../lab/lab.ts";
import { run, type CommandResult } from "../lab/run.ts";
import { requireTools } from "../toolchain/support.ts";
import { findExecutable } from "../../toolchain/native/which.ts";
import { cacheDir } from "../../toolchain/own-files.ts";

const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
const FIXTURE = path.join(repoRoot, "test", "package", "fixture");
/** The checkout's own TypeScript, to type-check the project as its author's editor would. */
const TSC = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");

/** What the tarball may hold: the CLI, its bundles, the program API, and the docs npm always adds. */
const SHIPPED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^hosts\.example\.yaml$/, /^bin\/mnt\.js$/, /^dist\/[\w-]+\.js$/, /^dist\/agent\.cjs(\.map)?$/, /^dist\/session-shell-bridge\.cjs$/, /^core\/program\/index\.ts$/];

/** A program that lives in the user's project: a context op, shared data, worker ops through m.map. */
const JOB = `import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({ gain: 1 }),
  context: {
    setGain(ctx, gain: number) {
      ctx.gain = gain;
    },
  },
  worker: {
    async scale(ctx, x: number, op) {
      const offset = await op.shared.get<number>("offset");
      return x * ctx.gain + offset;
    },
  },
  async main(m, argv) {
    m.shared.set("offset", 1);
    await m.context.setGain(Number(argv[0]));
    const results: number[] = [];
    for await (const { index, value } of m.map("scale", [1, 2, 3, 4])) results[index] = value;
    console.log(\`scaled: \${results.join(" ")}\`);
    return 0;
  },
});
`;

/** A program whose native dependency is the project's own addon (test/package/fixture/addon). */
const NATIVE_JOB = `import { defineProgram } from "marionette-mnt";
import { add, compiledFor } from "mnt-pack-addon";

export default defineProgram({
  init: () => ({}),
  worker: {
    sum(_ctx, pair: [number, number]) {
      return \`\${add(pair[0], pair[1])} (\${compiledFor()})\`;
    },
  },
  async main(m) {
    console.log(\`native: \${await m.worker.sum([2, 3])}\`);
    return 0;
  },
});
`;

/** A project's tsconfig as `tsc --init` would leave it for an ES module project. */
const TSCONFIG = { compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true }, include: ["*.ts"] };

/** e_machine of an ELF file (little-endian, offset 18): 62 x86-64, 183 AArch64. */
const elfMachine = (file: string) => readFileSync(file).readUInt16LE(18);

interface PackJson {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string }>;
}
interface BuildJson {
  ok: boolean;
  targets: Array<{ target: string; dir: string; addons: Array<{ path: string; package: string; kind: string; loadTested: true | string }> }>;
}
interface DeployJson {
  ok: boolean;
  hosts: Array<{ status: string; target: string; via: string; error: string | null }>;
}

function show(command: string, result: CommandResult): string {
  return `${command}: exit ${result.code}\n--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr ---\n${result.stderr.slice(-4000)}`;
}

describe("the npm package: packed, installed into a project and globally, run from there", function () {
  // ~55 s on an idle 2-core machine (2 min beside other test runs): mostly the project install, which
  // compiles ssh2's optional binding, and the arm64 load test under qemu.
  this.timeout(600_000);
  let root: string;
  let pack: PackJson;
  let project: string;
  let prefix: string;
  let lab: Lab | undefined;
  /** The environment of a user's shell: what npm puts in the environment of `npm test` is left out. */
  let env: NodeJS.ProcessEnv;

  /** Runs a command as the user would, failing with its output when it exits non-zero. */
  async function ok(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<CommandResult> {
    const result = await run(command, args, { cwd, env, timeoutMs });
    expect(result.code, show(`${command} ${args.join(" ")} (in ${cwd})`, result)).to.equal(0);
    return result;
  }
  /** `npx --no mnt …` in the project: --no makes npx fail rather than fetch some other "mnt" from the registry. */
  const npxMnt = (args: string[], timeoutMs?: number) => ok("npx", ["--no", "--", "mnt", ...args], project, timeoutMs);

  before(async function () {
    // Tools first, so a machine without them fails here with the command that installs them.
    requireTools(["linux-x64", "linux-arm64"]);
    requireLabTools();
    // Debian ships npm (and npx) apart from Node.js.
    for (const command of ["npm", "npx"]) if (!findExecutable(command)) throw new Error(`${command} is not installed: apt-get install -y npm`);
    root = mkdtempSync(path.join(os.tmpdir(), "mnt-package-"));
    env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|INIT_CWD$)/.test(key)));
    // A cache of its own, so the addon is really built here (mnt's native cache is keyed by the
    // lockfile, not by a local package's files); the official Node.js builds used for load tests
    // are shared with the user's cache, where the other toolchain tests keep them too.
    const cache = path.join(root, "mnt-cache");
    mkdirSync(path.join(cacheDir(), "node"), { recursive: true });
    mkdirSync(cache);
    symlinkSync(path.join(cacheDir(), "node"), path.join(cache, "node"));
    Object.assign(env, { CI: "true", MNT_CACHE_DIR: cache });

    const source = path.join(root, "source");
    const skip = new Set(["node_modules", ".git", "dist", ".mnt", ".mnt-cache"].map((name) => path.join(repoRoot, name)));
    cpSync(repoRoot, source, { recursive: true, filter: (file) => !skip.has(file) && path.basename(file) !== "node_modules" });
    // The pack's build (toolchain/build-self.mjs) bundles the dependencies the checkout has installed.
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(source, "node_modules"));
    mkdirSync(path.join(root, "pack"));
    const packed = await ok("npm", ["pack", "--json", "--pack-destination", path.join(root, "pack")], source);
    pack = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as PackJson[])[0]!;
    const tarball = path.join(root, "pack", pack.filename);

    project = path.join(root, "project");
    mkdirSync(project);
    writeFileSync(path.join(project, "package.json"), `${JSON.stringify({ name: "mnt-package-test-project", private: true, type: "module" }, null, 2)}\n`);
    writeFileSync(path.join(project, "job.ts"), JOB);
    // --prefer-offline: the packages `npm ci` of the checkout cached are not fetched again.
    await ok("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], project);

    // Without install scripts: they are ssh2's optional crypto binding and cpu-features, compiled
    // for ~30 s on every install; the project install above runs them as a user's npm does, and what
    // a global install changes (the bin link in <prefix>/bin, lib/node_modules, no project) is here.
    prefix = path.join(root, "global");
    await ok("npm", ["install", "--global", "--prefix", prefix, tarball, "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], root);
  });

  after(async () => {
    await lab?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("the tarball holds the CLI, the agent, the program API, README and LICENSE, built by the pack: no sources, tests or benchmarks", () => {
    const files = pack.files.map((file) => file.path).sort();
    expect(files.filter((file) => !SHIPPED.some((pattern) => pattern.test(file))), "files outside the whitelist").to.deep.equal([]);
    for (const file of ["bin/mnt.js", "dist/cli.js", "dist/agent.cjs", "dist/agent.cjs.map", "dist/session-shell-bridge.cjs", "core/program/index.ts", "README.md", "LICENSE"]) {
      expect(files, file).to.include(file);
    }
    // Lean: 0.4 MB when this was written; sources, tests or mnt's own source maps would double it.
    expect(pack.size, "tarball bytes").to.be.below(600 * 1024);
  });

  it("installed into a project: `npx mnt exec job.ts` runs the project's program; its types check; --version is the package's", async () => {
    const exec = await npxMnt(["exec", "job.ts", "--slots", "2", "--", "3"]);
    expect(exec.stdout).to.equal("scaled: 4 7 10 13\n");
    expect(exec.stderr).to.match(/^\[mnt\] local: agent up \(linux-x64, Node\.js [\d.]+\), 2 slaves$/m);
    expect((await npxMnt(["--version"])).stdout).to.equal(`${VERSION}\n`);
    // `marionette-mnt` as the project's editor sees it: package.json#exports gives its types.
    writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    await ok(process.execPath, [TSC, "-p", "."], project);
  });

  it("installed globally into a prefix: `<prefix>/bin/mnt exec` runs a program in a folder with no node_modules", async () => {
    const bare = path.join(root, "bare");
    mkdirSync(bare);
    writeFileSync(path.join(bare, "job.ts"), JOB);
    const mnt = path.join(prefix, "bin", "mnt");
    const exec = await ok(mnt, ["exec", "job.ts", "--slots", "2", "--", "5"], bare);
    expect(exec.stdout).to.equal("scaled: 6 11 16 21\n");
    expect((await ok(mnt, ["--version"], bare)).stdout).to.equal(`${VERSION}\n`);
  });

  it("`mnt build --arch all`: a release per target; a program with the project's own native addon: a .node per arch, load-tested, and `mnt exec` runs it", async () => {
    const all = JSON.parse((await npxMnt(["build", "job.ts", "--arch", "all", "--json"])).stdout) as BuildJson;
    expect(all.targets.map((t) => t.target)).to.deep.equal(["linux-x64", "linux-arm64", "linux-armv7l", "linux-riscv64", "linux-s390x"]);
    for (const t of all.targets) for (const file of ["agent.cjs", "program.mjs", "manifest.json"]) expect(existsSync(path.join(t.dir, file)), `${t.target}/${file}`).to.equal(true);

    // The addon is the project's own package, installed as a user of mnt build may: scripts not
    // run, so nothing is compiled in the project; mnt build compiles it per target.
    cpSync(path.join(FIXTURE, "addon"), path.join(project, "addon"), { recursive: true });
    writeFileSync(path.join(project, "native-job.ts"), NATIVE_JOB);
    await ok("npm", ["install", "./addon", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], project);
    expect(existsSync(path.join(project, "addon", "build")), "the project's addon was compiled by npm").to.equal(false);
    const built = JSON.parse((await npxMnt(["build", "native-job.ts", "--arch", "x64,arm64", "--json"], 300_000)).stdout) as BuildJson;
    const machines: Record<string, number> = { "linux-x64": 62, "linux-arm64": 183 };
    expect(built.targets.map((t) => t.target)).to.deep.equal(Object.keys(machines));
    for (const t of built.targets) {
      const node = path.join(t.dir, "node_modules", "mnt-pack-addon", "build", "Release", "addon.node");
      expect(elfMachine(node), `${t.target}: ${node}`).to.equal(machines[t.target]);
      expect(t.addons.map((a) => [a.path, a.package, a.kind, a.loadTested])).to.deep.equal([["node_modules/mnt-pack-addon/build/Release/addon.node", "mnt-pack-addon", "source", true]]);
    }
    const exec = await npxMnt(["exec", "native-job.ts", "--slots", "1"], 300_000);
    expect(exec.stdout).to.equal("native: 5 (x64)\n");
  });

  it("`mnt hosts check`, `mnt deploy` and `mnt exec --hosts` to a real sshd host: the release sent by tar, a changed one by rsync through dist/session-shell-bridge.cjs", async () => {
    lab = await startLoopbackLab(1);
    const hostsFile = path.join(project, "hosts.yaml");
    lab.writeHostsYaml(hostsFile, { defaults: { slots: 2, workDir: path.join(root, "host-work") } });
    await npxMnt(["hosts", "check", "hosts.yaml"]);
    const first = JSON.parse((await npxMnt(["deploy", "hosts.yaml", "job.ts", "--json"])).stdout) as DeployJson;
    expect(first.hosts.map((h) => [h.status, h.target, h.via])).to.deep.equal([["deployed", "linux-x64", "tar"]]);
    writeFileSync(path.join(project, "job.ts"), JOB.replace('"offset", 1', '"offset", 2'));
    const second = JSON.parse((await npxMnt(["deploy", "hosts.yaml", "job.ts", "--json"])).stdout) as DeployJson;
    expect(second.hosts.map((h) => [h.status, h.via])).to.deep.equal([["deployed", "rsync"]]);
    const exec = await npxMnt(["exec", "job.ts", "--hosts", "hosts.yaml", "--", "3"]);
    expect(exec.stdout).to.equal("scaled: 5 8 11 14\n");
  });
});
