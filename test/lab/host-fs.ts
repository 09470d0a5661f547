// A netns host's own view of this machine's file system. Hosts share the file system; what differs
// is mounted in the host's mount namespace only:
//   - its /root and /tmp: bind mounts of folders in its state folder;
//   - commands it lacks (rsync, node): an overlayfs over their folder whose upper layer holds
//     whiteouts, so they are absent (`command -v` finds nothing, as on a machine without them:
//     an empty or unexecutable file over them would still be found by bash's `command -v`);
//   - another CPU: uname/arch wrappers and an empty `node` in that layer, the official Node.js for
//     that CPU bind-mounted onto it (process.execPath is /usr/bin/node, as on a real machine), the
//     CPU's runtime libraries at /lib/<triple> and its loader in /lib (a Debian multiarch layout,
//     so its programs run without QEMU_LD_PREFIX, whatever environment they get), and a
//     binfmt_misc rule the start script registers in the host's own user namespace.
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EMULATIONS, type Emulation } from "./emulation.ts";
import { archWrapper, unameWrapper, type MountPlan } from "./files.ts";
import { type NetnsHostOptions } from "./host-options.ts";
import { runChecked } from "./run.ts";
import { tool } from "./tools.ts";

/** PATH of an OpenSSH session of root on Debian: the folders where a command would be found. */
const SESSION_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
/** What a machine without Node.js lacks. */
const NODE_COMMANDS = ["node", "nodejs", "npm", "npx", "corepack"];

/** Makes the host's layers under hostDir and returns the mounts its start script makes. */
export async function planHostFs(hostDir: string, options: NetnsHostOptions, foreignNode: string | null): Promise<MountPlan> {
  const layers = new Layers(path.join(hostDir, "layers"));
  const plan: MountPlan = {
    overlays: [],
    binds: [
      { source: path.join(hostDir, "root"), target: "/root" },
      { source: path.join(hostDir, "tmp"), target: "/tmp" },
    ],
    binfmtRule: null,
  };
  const emulation = options.arch ? EMULATIONS[options.arch] : null;
  const bin = realpathSync("/usr/bin");
  const hidden = [...(options.rsync === false ? ["rsync"] : []), ...(options.node === false ? NODE_COMMANDS : [])];
  // An emulated host's node replaces the one in /usr/bin and must not be shadowed by another earlier on PATH.
  const replacedNode = emulation !== null && options.node !== false;
  const whiteouts: string[] = [];
  for (const dir of sessionDirs()) {
    for (const name of replacedNode && dir !== bin ? [...hidden, "node"] : hidden) {
      if (present(path.join(dir, name))) whiteouts.push(layers.entry(dir, name));
    }
  }
  // overlayfs reads a 0/0 character device in a layer as "no such entry below".
  for (const file of whiteouts) await runChecked(tool("mknod"), [file, "c", "0", "0"]);
  if (emulation) {
    emulate(layers, hostDir, bin, emulation);
    plan.binfmtRule = emulation.binfmtRule;
    if (replacedNode) {
      if (!foreignNode) throw new Error(`an emulated ${emulation.arch} host with Node.js needs the path of its node`);
      writeExecutable(layers.entry(bin, "node"), "");
      plan.binds.push({ source: foreignNode, target: path.join(bin, "node") });
    }
  }
  plan.overlays = layers.mounts();
  return plan;
}

function emulate(layers: Layers, hostDir: string, bin: string, emulation: Emulation): void {
  // The wrapper runs a copy of the real uname: the real one is under the wrapper.
  const realUname = path.join(hostDir, "uname.real");
  copyFileSync(path.join(bin, "uname"), realUname);
  chmodSync(realUname, 0o755);
  writeExecutable(layers.entry(bin, "uname"), unameWrapper(realUname, tool("sed"), os.machine(), emulation.machine));
  writeExecutable(layers.entry(bin, "arch"), archWrapper(path.join(bin, "uname")));
  // Debian multiarch: the loader the programs name (/lib/ld-linux-…) and /lib/<triple>, which its ld.so searches.
  const libs = path.join("/usr", emulation.triple, "lib");
  const lib = realpathSync("/lib");
  symlinkSync(path.join(libs, emulation.loader), layers.entry(lib, emulation.loader));
  const tripleDir = layers.entry(lib, emulation.triple);
  mkdirSync(tripleDir);
  for (const entry of readdirSync(libs)) symlinkSync(path.join(libs, entry), path.join(tripleDir, entry));
}

/** One upper layer per folder the host sees differently; created on first use. */
class Layers {
  private readonly byTarget = new Map<string, string>();

  constructor(private readonly root: string) {}

  /** The path in `target`'s layer where `name` goes. */
  entry(target: string, name: string): string {
    let layer = this.byTarget.get(target);
    if (!layer) {
      layer = path.join(this.root, String(this.byTarget.size));
      mkdirSync(layer, { recursive: true, mode: 0o755 });
      this.byTarget.set(target, layer);
    }
    return path.join(layer, name);
  }

  mounts(): MountPlan["overlays"] {
    return [...this.byTarget].map(([target, layer]) => ({ layer, target }));
  }
}

/** The session PATH's folders as they really are (/bin is /usr/bin on Debian 12), each once. */
function sessionDirs(): string[] {
  const dirs = new Set<string>();
  for (const dir of SESSION_PATH) {
    try {
      dirs.add(realpathSync(dir));
    } catch {
      // not on this machine
    }
  }
  return [...dirs];
}

/** An entry `command -v` could find, dangling symlinks included (lstat, not stat). */
function present(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function writeExecutable(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o755 });
}
