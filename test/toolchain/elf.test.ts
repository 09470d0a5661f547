// ELF facts of real addons built here with node-gyp and the cross compilers, checked against the
// target table and against binutils' readelf.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import path from "node:path";
import { isElf, machineName, readElf, readElfHeader } from "../../toolchain/native/elf.ts";
import { EXPERIMENTAL_IN_NODE_20, napiVersionOf, napiVersionTable } from "../../toolchain/native/napi-versions.ts";
import type { TargetName } from "../../toolchain/targets.ts";
import { EXAMPLE_DIR, buildAddon, removeDir, requireTools, target, tempDir, writeCAddon, writePackage } from "./support.ts";

const TARGETS: TargetName[] = ["linux-x64", "linux-arm64", "linux-armv7l", "linux-riscv64", "linux-s390x"];

/** The highest GLIBC_x.y readelf lists as needed, without the prefix. */
function readelfGlibcFloor(file: string): string | null {
  const text = execFileSync("readelf", ["-V", "-W", file], { encoding: "utf8" });
  const versions = [...text.matchAll(/Name: GLIBC_(\d+(?:\.\d+)+)/g)].map((match) => match[1]!);
  const key = (version: string) => version.split(".").map((part) => part.padStart(4, "0")).join(".");
  return versions.sort((a, b) => (key(a) < key(b) ? -1 : 1)).at(-1) ?? null;
}

describe("toolchain/native/elf", function () {
  this.timeout(180_000);
  let work: string;

  before(() => {
    requireTools(TARGETS, "build");
    work = tempDir("elf");
  });
  after(() => removeDir(work));

  describe("the example's checksum addon, built for every target", () => {
    for (const name of TARGETS) {
      it(`${name}: machine, class and N-API as built`, () => {
        const t = target(name);
        const source = path.join(work, `checksum-${name}`);
        cpSync(path.join(EXAMPLE_DIR, "addon"), source, { recursive: true, filter: (from) => !from.includes(`${path.sep}build`) });
        const bytes = readFileSync(buildAddon(source, t));
        const facts = readElf(bytes);
        expect(facts.machine).to.equal(t.elfMachine);
        expect(facts.elfClass).to.equal(t.elfClass);
        // s390x is the one big-endian target: its ELF header and tables are read big-endian.
        expect(facts.littleEndian).to.equal(name !== "linux-s390x");
        // fnv1a and compiledFor use only N-API 1 functions; no C++ runtime.
        expect(facts.napi).to.equal(1);
        expect(facts.v8Abi).to.equal(false);
        expect(facts.registeredAbi).to.equal(null);
        expect(facts.glibcxx).to.equal(null);
      });
    }
  });

  it("the glibc floor is the highest GLIBC_ version readelf lists (getrandom: 2.25)", () => {
    for (const name of ["linux-x64", "linux-arm64", "linux-armv7l", "linux-s390x"] as const) {
      const dir = writeCAddon(path.join(work, `random-${name}`), "random", `  unsigned char byte; getrandom(&byte, 1, 0);\n  napi_value value; napi_create_uint32(env, byte, &value);\n  napi_set_named_property(env, exports, "byte", value);`, "#include <sys/random.h>\n#include <string.h>");
      const file = buildAddon(dir, target(name));
      const floor = readElf(readFileSync(file)).glibc;
      expect(floor, name).to.equal(readelfGlibcFloor(file));
      expect(floor, name).to.equal("2.25");
    }
  });

  it("N-API version: the highest among the functions imported (bigint → 6), not the compile-time NAPI_VERSION", () => {
    const dir = writeCAddon(path.join(work, "bigint"), "bigint", `  napi_value value; napi_create_bigint_int64(env, 42, &value);\n  struct uv_loop_s* loop; napi_get_uv_event_loop(env, &loop);\n  napi_set_named_property(env, exports, "answer", value);`);
    const facts = readElf(readFileSync(buildAddon(dir, target("linux-arm64"))));
    expect(facts.napi).to.equal(6);
    expect(facts.v8Abi).to.equal(false);
  });

  it("a V8-ABI addon (NODE_MODULE_INIT): v8Abi, and its NODE_MODULE_VERSION from node_register_module_v<N>", () => {
    const dir = writePackage(path.join(work, "v8"), { name: "v8-addon", version: "1.0.0" }, {
      "binding.gyp": JSON.stringify({ targets: [{ target_name: "v8addon", sources: ["v8addon.cc"] }] }),
      "v8addon.cc": `#include <node.h>\nNODE_MODULE_INIT() {\n  v8::Isolate* isolate = context->GetIsolate();\n  exports->Set(context, v8::String::NewFromUtf8Literal(isolate, "abi"), v8::Integer::New(isolate, NODE_MODULE_VERSION)).Check();\n}\n`,
    });
    const file = buildAddon(dir, target("linux-arm64"));
    const facts = readElf(readFileSync(file));
    const headers = readFileSync("/usr/include/node/node_version.h", "utf8");
    expect(facts.v8Abi).to.equal(true);
    expect(facts.napi).to.equal(null);
    expect(facts.registeredAbi).to.equal(/#define NODE_MODULE_VERSION (\d+)/.exec(headers)![1]);
  });

  it("an old-style V8 addon (NODE_MODULE) is V8-ABI without an exported version", () => {
    const dir = writePackage(path.join(work, "v8old"), { name: "v8-old", version: "1.0.0" }, {
      "binding.gyp": JSON.stringify({ targets: [{ target_name: "v8old", sources: ["v8old.cc"] }] }),
      "v8old.cc": `#include <node.h>\nstatic void Init(v8::Local<v8::Object> exports) {\n  v8::Isolate* isolate = v8::Isolate::GetCurrent();\n  exports->Set(isolate->GetCurrentContext(), v8::String::NewFromUtf8Literal(isolate, "ok"), v8::True(isolate)).Check();\n}\nNODE_MODULE(NODE_GYP_MODULE_NAME, Init)\n`,
    });
    const facts = readElf(readFileSync(buildAddon(dir, target("linux-x64"))));
    expect(facts.v8Abi).to.equal(true);
    expect(facts.registeredAbi).to.equal(null);
  });

  it("refuses what is not ELF, and names machines", () => {
    expect(isElf(Buffer.from("MZ\x90\x00 a Windows DLL"))).to.equal(false);
    expect(() => readElf(Buffer.from("MZ\x90\x00 a Windows DLL, long enough to have a header"))).to.throw(TypeError, /not an ELF file/);
    expect(() => readElfHeader(Buffer.alloc(4))).to.throw(TypeError);
    expect(machineName(183)).to.equal("AArch64 (183)");
    expect(machineName(62)).to.equal("x86-64 (62)");
    expect(machineName(40)).to.equal("ARM (40)");
    expect(machineName(243)).to.equal("RISC-V (243)");
    expect(machineName(22)).to.equal("S390 (22)");
    expect(machineName(9999)).to.equal("machine 9999");
  });

  it("the N-API table matches the #if NAPI_VERSION guards of the installed Node.js headers", () => {
    const derived = new Map<string, number | "experimental">();
    for (const header of ["js_native_api.h", "node_api.h"]) {
      const guards: (number | "experimental" | null)[] = [];
      for (const line of readFileSync(path.join("/usr/include/node", header), "utf8").split("\n")) {
        const trimmed = line.trim();
        const version = /^#if NAPI_VERSION >= (\d+)/.exec(trimmed);
        if (version) guards.push(Number(version[1]));
        else if (trimmed.startsWith("#ifdef NAPI_EXPERIMENTAL")) guards.push("experimental");
        else if (trimmed.startsWith("#if")) guards.push(null);
        else if (trimmed.startsWith("#endif")) guards.pop();
        for (const match of trimmed.matchAll(/\b((?:napi|node_api)_[a-z0-9_]+)\s*\(/g)) {
          const active = guards.filter((guard) => guard !== null);
          derived.set(match[1]!, active.includes("experimental") ? "experimental" : Math.max(1, ...(active as number[])));
        }
      }
    }
    const table = napiVersionTable();
    for (const [name, version] of derived) {
      if (version === "experimental") expect(EXPERIMENTAL_IN_NODE_20, name).to.include(name);
      else expect(napiVersionOf(name), name).to.equal(version);
    }
    for (const name of Object.keys(table)) expect(derived.has(name), `${name} is in the headers`).to.equal(true);
    expect(napiVersionOf("node_api_some_function_from_node_30")).to.equal(10);
  });
});
