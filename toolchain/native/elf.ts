// Facts about a native addon read from its ELF bytes: which machine it runs on, the oldest glibc
// that can load it, and whether it speaks N-API (stable across Node.js versions) or the V8/node C++
// ABI (tied to one NODE_MODULE_VERSION). Pure: a Buffer in, facts out; no file system.
//
// Only the section headers are read (.dynsym for symbols, .gnu.version_r for needed versions):
// `strip` keeps them, so prebuilt addons from npm have them too.
import { isNapiSymbol, napiVersionOf } from "./napi-versions.ts";

export interface ElfFacts {
  elfClass: 32 | 64;
  littleEndian: boolean;
  /** e_machine: 62 x86-64, 183 AArch64, 40 ARM, 243 RISC-V. */
  machine: number;
  /** Highest `GLIBC_x.y` the file references, as `x.y` (`2.17`): the oldest glibc that can load it. Null: none. */
  glibc: string | null;
  /** Highest `GLIBCXX_x.y.z` (libstdc++) it references, as `x.y.z`: C++ addons need at least that libstdc++. */
  glibcxx: string | null;
  /** Highest N-API version among the Node-API functions it imports; null when it uses none. */
  napi: number | null;
  /** It imports V8 or node C++ symbols: it loads only on Node.js with the NODE_MODULE_VERSION it was built for. */
  v8Abi: boolean;
  /** NODE_MODULE_VERSION from an exported `node_register_module_v<N>` (NODE_MODULE_INIT addons); null when absent. */
  registeredAbi: string | null;
  /** It is a Node.js addon at all (N-API or V8); false for other shared objects named .node (a SQLite extension). */
  nodeAddon: boolean;
}

const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: "x86",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "S390",
  40: "ARM",
  62: "x86-64",
  183: "AArch64",
  243: "RISC-V",
  258: "LoongArch",
};

/** `AArch64 (183)`: how errors name a machine. */
export function machineName(machine: number): string {
  const name = MACHINE_NAMES[machine];
  return name ? `${name} (${machine})` : `machine ${machine}`;
}

const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHN_UNDEF = 0;

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 20 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Only the header: enough to check the machine of a file without reading its tables. */
export function readElfHeader(bytes: Buffer): { elfClass: 32 | 64; littleEndian: boolean; machine: number } {
  if (!isElf(bytes)) throw new TypeError("not an ELF file (no \\x7fELF magic)");
  const elfClass = bytes[4] === 2 ? 64 : bytes[4] === 1 ? 32 : null;
  if (elfClass === null) throw new TypeError(`not an ELF file (class byte ${bytes[4]})`);
  const littleEndian = bytes[5] !== 2;
  const machine = littleEndian ? bytes.readUInt16LE(18) : bytes.readUInt16BE(18);
  return { elfClass, littleEndian, machine };
}

export function readElf(bytes: Buffer): ElfFacts {
  const header = readElfHeader(bytes);
  const read = reader(bytes, header.elfClass, header.littleEndian);
  const sections = read.sections();
  const symbols = sections.filter((s) => s.type === SHT_DYNSYM).flatMap((s) => read.symbols(s, sections[s.link]!));
  const versions = sections.filter((s) => s.type === SHT_GNU_VERNEED).flatMap((s) => read.neededVersions(s, sections[s.link]!));

  const imports = symbols.filter((s) => s.undefined).map((s) => s.name);
  const exports = symbols.filter((s) => !s.undefined).map((s) => s.name);
  const napiImports = imports.filter(isNapiSymbol);
  const registered = exports.map((name) => /^node_register_module_v(\d+)$/.exec(name)?.[1]).find(Boolean);
  const napi = napiImports.length > 0 || exports.includes("napi_register_module_v1") ? Math.max(1, ...napiImports.map(napiVersionOf)) : null;
  const v8Abi = imports.some(isV8Symbol);
  return {
    ...header,
    glibc: highestVersion(versions, "GLIBC_"),
    glibcxx: highestVersion(versions, "GLIBCXX_"),
    napi,
    v8Abi,
    registeredAbi: registered ?? null,
    nodeAddon: napi !== null || v8Abi || registered !== undefined,
  };
}

/** Mangled C++ names in namespaces v8 and node (`_ZN2v8…`, `_ZNK4node…`), and the old registration call. */
function isV8Symbol(name: string): boolean {
  return /^_ZN[KVR]*(2v8|4node)/.test(name) || name === "node_module_register";
}

/** `GLIBC_2.17` > `GLIBC_2.4`: compared as numbers, part by part; the answer without the prefix (`2.17`). */
function highestVersion(names: string[], prefix: string): string | null {
  let best: number[] | null = null;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (!/^\d+(\.\d+)*$/.test(rest)) continue; // GLIBC_PRIVATE and the like
    const parts = rest.split(".").map(Number);
    if (best === null || compareParts(parts, best) > 0) best = parts;
  }
  return best ? best.join(".") : null;
}

function compareParts(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** Field readers for one class and byte order; offsets from the ELF specification (gABI). */
function reader(bytes: Buffer, elfClass: 32 | 64, littleEndian: boolean) {
  const u16 = (at: number) => (littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at: number) => Number(littleEndian ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  const wide = elfClass === 64;
  const addr = wide ? u64 : u32;

  const cString = (at: number): string => {
    const end = bytes.indexOf(0, at);
    return bytes.toString("latin1", at, end < 0 ? bytes.length : end);
  };

  return {
    sections(): Section[] {
      const shoff = addr(wide ? 0x28 : 0x20);
      const shentsize = u16(wide ? 0x3a : 0x2e);
      const shnum = u16(wide ? 0x3c : 0x30);
      if (shoff === 0 || shoff + shnum * shentsize > bytes.length) return [];
      return Array.from({ length: shnum }, (_, i) => {
        const at = shoff + i * shentsize;
        return wide
          ? { type: u32(at + 4), offset: u64(at + 0x18), size: u64(at + 0x20), link: u32(at + 0x28), info: u32(at + 0x2c), entsize: u64(at + 0x38) }
          : { type: u32(at + 4), offset: u32(at + 0x10), size: u32(at + 0x14), link: u32(at + 0x18), info: u32(at + 0x1c), entsize: u32(at + 0x24) };
      });
    },

    symbols(table: Section, strings: Section): { name: string; undefined: boolean }[] {
      const entsize = table.entsize || (wide ? 24 : 16);
      const out: { name: string; undefined: boolean }[] = [];
      for (let at = table.offset + entsize; at + entsize <= table.offset + table.size; at += entsize) {
        const name = cString(strings.offset + u32(at));
        const shndx = u16(at + (wide ? 6 : 14));
        if (name) out.push({ name, undefined: shndx === SHN_UNDEF });
      }
      return out;
    },

    /** Version names needed from shared libraries (Elf_Verneed entries, each with Elf_Vernaux entries). */
    neededVersions(table: Section, strings: Section): string[] {
      const names: string[] = [];
      let need = table.offset;
      for (let i = 0; i < table.info && need + 16 <= bytes.length; i++) {
        const count = u16(need + 2);
        let aux = need + u32(need + 8);
        for (let j = 0; j < count && aux + 16 <= bytes.length; j++) {
          names.push(cString(strings.offset + u32(aux + 8)));
          const next = u32(aux + 12);
          if (next === 0) break;
          aux += next;
        }
        const next = u32(need + 12);
        if (next === 0) break;
        need += next;
      }
      return names;
    },
  };
}
