// Shared by the native-toolchain tests: real tools only. A tool this machine lacks fails the test
// with the apt-get line that installs it (tests are never skipped).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { doctor } from "../../toolchain/doctor.ts";
import { crossBuildEnv } from "../../toolchain/native/build.ts";
import { findExecutable } from "../../toolchain/native/which.ts";
import { targetNamed, type Target, type TargetName } from "../../toolchain/targets.ts";

export const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/native-addons/", import.meta.url));
/** The example's four top-level native packages. */
export const EXAMPLE_NATIVES = ["argon2", "bcrypt", "@node-rs/crc32", "mnt-checksum"];
/** npm's own node-gyp: there is none on PATH. */
export const NODE_GYP = path.join(path.dirname(path.dirname(realpathSync(findExecutable("npm")!))), "node_modules/node-gyp/bin/node-gyp.js");

export function target(name: TargetName): Target {
  return targetNamed(name)!;
}

/** Throws, naming the apt-get line, when the targets cannot be built for or load-tested here. */
export function requireTools(names: readonly TargetName[], what: "build" | "build+load" = "build+load"): void {
  const report = doctor(names.map(target));
  const missing = report.targets.flatMap((t) => [...t.build, ...(what === "build+load" ? t.loadTest : [])]).filter((check) => check.found === null);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((check) => check.debianPackage))];
    throw new Error(`missing ${missing.map((check) => check.name).join(", ")}: apt-get install -y ${packages.join(" ")}`);
  }
  if (!existsSync(NODE_GYP)) throw new Error(`no node-gyp at ${NODE_GYP} (npm's bundled one): reinstall npm`);
}

export function tempDir(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `mnt-${label}-`));
}

/**
 * A copy of the example project with its node_modules installed for this machine WITHOUT scripts
 * (as a user of mnt build may): nothing in it is built, the platform packages are this machine's.
 */
export function exampleProjectCopy(): string {
  const dir = tempDir("native-project");
  for (const file of ["package.json", "package-lock.json"]) cpSync(path.join(EXAMPLE_DIR, file), path.join(dir, file));
  cpSync(path.join(EXAMPLE_DIR, "addon"), path.join(dir, "addon"), { recursive: true, filter: (source) => !source.includes(`${path.sep}build`) });
  execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  return dir;
}

/** Writes a package folder (package.json and files) for tests that need a package of a given shape. */
export function writePackage(dir: string, manifest: Record<string, unknown>, files: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/**
 * Builds the addon in `sourceDir` (a binding.gyp folder) with node-gyp for `target`, with the cross
 * environment mnt uses, or — `crossCompiler: false` — with `--arch` alone, the mistake that builds
 * for this machine and exits 0. Returns the `.node` file.
 */
export function buildAddon(sourceDir: string, buildTarget: Target, options: { crossCompiler?: boolean } = {}): string {
  const env = options.crossCompiler === false ? { ...process.env } : crossBuildEnv(buildTarget, process.env, "/usr");
  try {
    execFileSync(process.execPath, [NODE_GYP, "rebuild", `--arch=${buildTarget.gypArch}`, "--nodedir=/usr", "--loglevel=error"], { cwd: sourceDir, env, stdio: "pipe" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: Buffer; stderr: Buffer };
    throw new Error(`node-gyp rebuild in ${sourceDir} failed:\n${String(stdout)}${String(stderr)}`);
  }
  const release = path.join(sourceDir, "build/Release");
  const file = readdirSync(release).find((name) => name.endsWith(".node"));
  if (!file) throw new Error(`node-gyp left no .node in ${release}`);
  return path.join(release, file);
}

/** A C addon (N-API) in a fresh folder: `body` is the module's init code, with `env` and `exports`. */
export function writeCAddon(dir: string, name: string, body: string, prelude = ""): string {
  return writePackage(dir, { name, version: "1.0.0", main: "index.js", gypfile: true }, {
    "binding.gyp": JSON.stringify({ targets: [{ target_name: name, sources: [`${name}.c`] }] }),
    [`${name}.c`]: `#include <node_api.h>\n${prelude}\nNAPI_MODULE_INIT() {\n${body}\n  return exports;\n}\n`,
    "index.js": `module.exports = require("./build/Release/${name}.node");\n`,
  });
}

/** A folder with links to only `commands` (found on this PATH): a PATH without some tool. */
export function pathWith(commands: readonly string[]): string {
  const dir = tempDir("path");
  for (const command of commands) {
    const found = findExecutable(command);
    if (!found) throw new Error(`${command} is not on PATH`);
    symlinkSync(found, path.join(dir, command));
  }
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
