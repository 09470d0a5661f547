// One record per addon file of a laid-out tree, each checked against the target's ELF machine: a
// wrong-architecture `.node` fails to load with a misleading "No such file or directory", so it is
// refused here, at build time, by name.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import type { Target } from "../targets.ts";
import type { AddonKind } from "./classify.ts";
import { isElf, machineName, readElf, readElfHeader } from "./elf.ts";
import type { ClosurePackage } from "./lockfile.ts";

export interface AddonRecord {
  /** Relative to the release folder: `node_modules/bcrypt/lib/binding/napi-v3/bcrypt_lib.node`. */
  path: string;
  /** The package the file is in, and its version. */
  package: string;
  version: string;
  kind: AddonKind;
  /** N-API version it needs (the highest among the Node-API functions it imports); null: it uses no N-API. */
  napi: number | null;
  /** NODE_MODULE_VERSION it was built for when it uses the V8/node C++ ABI; null for N-API-only addons. */
  nodeAbi: string | null;
  /** Its glibc floor: the highest GLIBC_x.y it references, as `x.y` (`2.17`; null: none). */
  glibc: string | null;
  /** Its libstdc++ floor: the highest GLIBCXX_x.y.z it references, as `x.y.z` (null: none, a C or Rust addon). */
  glibcxx: string | null;
  elfMachine: number;
  /** False for a shared object that is not a Node.js addon (better-sqlite3's test_extension.node, a SQLite extension). */
  nodeAddon: boolean;
  /** The requested package whose `require()` loads this file (the load test requires it by that name). */
  loadVia: string;
}

export interface RecordContext {
  target: Target;
  closure: readonly ClosurePackage[];
  kinds: ReadonlyMap<ClosurePackage, AddonKind>;
  /** NODE_MODULE_VERSION of the headers source builds used: the ABI of a V8 addon built here. */
  headersAbi: string | null;
}

/**
 * Records for every `.node` file under `treeDir` (paths relative to it). Throws an MntError naming
 * the first file whose ELF machine or class is not the target's.
 */
export function addonRecords(treeDir: string, context: RecordContext): AddonRecord[] {
  const byDepth = [...context.closure].sort((a, b) => b.installPath.length - a.installPath.length);
  return nodeFiles(treeDir, "node_modules").map((file) => {
    const bytes = readFileSync(path.join(treeDir, file));
    const owner = byDepth.find((pkg) => file.startsWith(`${pkg.installPath}/`));
    checkMachine(file, bytes, context.target, owner);
    const facts = readElf(bytes);
    const kind = (owner && context.kinds.get(owner)) ?? "prebuild";
    return {
      path: file,
      package: owner?.name ?? "(unknown)",
      version: owner?.version ?? "(unknown)",
      kind,
      napi: facts.napi,
      nodeAbi: facts.v8Abi ? (facts.registeredAbi ?? abiInName(file) ?? (kind === "source" ? context.headersAbi : null)) : null,
      glibc: facts.glibc,
      glibcxx: facts.glibcxx,
      elfMachine: facts.machine,
      nodeAddon: facts.nodeAddon,
      loadVia: owner?.neededBy[0] ?? "(unknown)",
    };
  });
}

/** The check itself, for any `.node` file: machine and class must be the target's. */
export function checkMachine(file: string, bytes: Buffer, target: Target, owner?: ClosurePackage): void {
  const who = owner ? `${owner.name}@${owner.version}: ` : "";
  if (!isElf(bytes)) {
    throw new MntError("infrastructure", `${who}${file} is not an ELF file (a build for another operating system?), so it cannot load on ${target.name}`, "remove it from the package or report it to the package's authors");
  }
  const header = readElfHeader(bytes);
  if (header.machine !== target.elfMachine || header.elfClass !== target.elfClass) {
    throw new MntError(
      "infrastructure",
      `${who}${file} is built for ${machineName(header.machine)}, ${header.elfClass}-bit, but ${target.name} needs ${machineName(target.elfMachine)}, ${target.elfClass}-bit`,
      target.crossTriple
        ? `a source build must use ${target.crossTriple}-gcc/g++ (CC, CXX, LINK, AR); a shipped file is the package's own mistake`
        : "a shipped file for another machine is the package's own mistake",
    );
  }
}

/** prebuildify's `node.abi115.node` and node-pre-gyp's `node-v115-linux-x64/`. */
function abiInName(file: string): string | null {
  return /(?:^|[./])abi(\d+)(?:[./]|$)/.exec(file)?.[1] ?? /node-v(\d+)-/.exec(file)?.[1] ?? null;
}

/** `.node` files under `dir/sub`, as paths relative to `dir`, sorted. */
function nodeFiles(dir: string, sub: string): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && entry.name.endsWith(".node")) found.push(child);
    }
  };
  walk(sub);
  return found.sort();
}
