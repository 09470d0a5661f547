// What this machine lacks to build and load-test native addons for each target, and the one
// apt-get line that installs it. Pure data out: the CLI renders it, `mnt build` quotes it in errors.
import { existsSync } from "node:fs";
import path from "node:path";
import { findExecutable } from "./native/which.ts";
import type { Target } from "./targets.ts";

// The sysroot is checked through the runtime libraries in it (its libc first).
export type CheckKind = "compiler" | "build-tool" | "node-headers" | "emulator" | "runtime-library";

export interface Check {
  kind: CheckKind;
  /** The command or file looked for: `aarch64-linux-gnu-g++`, `/usr/aarch64-linux-gnu/lib/libc.so.6`. */
  name: string;
  /** Where it was found; null: missing. */
  found: string | null;
  /** The Debian package that provides it. */
  debianPackage: string;
}

export interface TargetReport {
  target: Target;
  /** Needed to build addons from source for the target (prebuilt and per-platform packages need none). */
  build: Check[];
  /** Needed to load-test the target's addons on this machine (empty for this machine's own target). */
  loadTest: Check[];
  canBuild: boolean;
  canLoadTest: boolean;
}

export interface DoctorReport {
  targets: TargetReport[];
  /** Debian packages that would make every check pass, each once, in the order first needed. */
  missingPackages: string[];
  /** `apt-get install -y …` for missingPackages; null when nothing is missing. */
  aptGetLine: string | null;
}

export interface DoctorOptions {
  /** Where commands are looked for (default: this process's PATH). */
  path?: string;
  /** Where Node.js's C headers are (npm's `nodedir`, default /usr): node-gyp downloads them otherwise, which cannot work offline. */
  nodedir?: string;
}

export function doctor(targets: readonly Target[], options: DoctorOptions = {}): DoctorReport {
  const reports = targets.map((target) => checkTarget(target, options));
  const missingPackages = packagesFor(reports.flatMap((report) => [...report.build, ...report.loadTest]));
  return { targets: reports, missingPackages, aptGetLine: aptGetLine(missingPackages) };
}

export function checkTarget(target: Target, options: DoctorOptions = {}): TargetReport {
  const build = buildChecks(target, options);
  const loadTest = loadTestChecks(target, options);
  // Without an official Node.js for the target on npm there is nothing to load its addons with.
  return { target, build, loadTest, canBuild: build.every(isFound), canLoadTest: loadTest.every(isFound) && target.nodePackage !== null };
}

/** The Debian packages behind the missing checks, each once. */
export function packagesFor(checks: readonly Check[]): string[] {
  return [...new Set(checks.filter((check) => !isFound(check)).map((check) => check.debianPackage))];
}

export function aptGetLine(packages: readonly string[]): string | null {
  return packages.length === 0 ? null : `apt-get install -y ${packages.join(" ")}`;
}

function isFound(check: Check): boolean {
  return check.found !== null;
}

function buildChecks(target: Target, options: DoctorOptions): Check[] {
  const prefix = target.crossTriple ? `${target.crossTriple}-` : "";
  const compilers = target.crossTriple
    ? [`${prefix}gcc`, `${prefix}g++`, `${prefix}ar`].map((name) => command("compiler", name, target.compilerPackage, options))
    : [command("compiler", "gcc", "gcc", options), command("compiler", "g++", "g++", options), command("compiler", "ar", "binutils", options)];
  const nodedir = options.nodedir ?? "/usr";
  return [
    ...compilers,
    // node-gyp runs gyp (Python) and then make.
    command("build-tool", "make", "make", options),
    command("build-tool", "python3", "python3", options),
    file("node-headers", path.join(nodedir, "include/node/node_api.h"), "nodejs"),
  ];
}

function loadTestChecks(target: Target, options: DoctorOptions): Check[] {
  if (!target.qemu || !target.sysroot) return [];
  const sysroot = target.sysroot;
  return [
    command("emulator", target.qemu, "qemu-user-static", options),
    ...target.runtimeLibraries.map((library) => file("runtime-library", path.join(sysroot, library.file), library.debianPackage)),
  ];
}

function command(kind: CheckKind, name: string, debianPackage: string, options: DoctorOptions): Check {
  return { kind, name, found: findExecutable(name, options.path), debianPackage };
}

function file(kind: CheckKind, name: string, debianPackage: string): Check {
  return { kind, name, found: existsSync(name) ? name : null, debianPackage };
}
