// Bundles a user program (TypeScript) into one ESM file with a source map, for master and slaves.
// Packages that cannot be bundled (native addons: their loaders look for `.node` files next to
// their own `__dirname`) stay external and are listed, so the build puts them, built for each
// target, in the release's node_modules beside the bundle.
//
// A bundle whose inputs (every file esbuild read, from its metafile) are unchanged by size and
// modification time is reused without starting esbuild at all: a warm `mnt exec` then costs no
// esbuild process (~150 ms of CPU) and does not load esbuild's JS API. esbuild's service is stopped
// after each build: left running, it outlived the command that started it.
import type { Message, OutputFile, Plugin } from "esbuild";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { MntError } from "../../core/errors.ts";
import { artefactId } from "../../core/protocol/manifest.ts";
import { isNativePackage } from "../native/detect.ts";
import { packageRoot } from "../own-files.ts";

const PACKAGE_NAME = "marionette-mnt";
// From the package root: this file runs from the sources and from dist/cli.js alike.
const PROGRAM_API = path.join(packageRoot, "core", "program", "index.ts");

export interface ProgramBundle {
  /** Absolute path of the bundled program (.mjs, source map beside it). */
  file: string;
  /** sha256 prefix of the bundle: names it, so the same program is not rebuilt or resent. */
  hash: string;
  /** Native packages the program imports, left out of the bundle (sorted). */
  externals: string[];
}

export async function bundleProgram(entry: string, outDir: string): Promise<ProgramBundle> {
  const source = path.resolve(entry);
  if (!existsSync(source)) throw new MntError("program", `${entry}: no such file`, "check the path of the program");
  mkdirSync(outDir, { recursive: true });
  const recordFile = path.join(outDir, `inputs-${artefactId(Buffer.from(source)).slice(0, 12)}.json`);
  const recipe = bundleRecipe(source);
  const fresh = freshBundle(recordFile, recipe);
  if (fresh) return fresh;
  const staging = path.join(outDir, `build-${process.pid}.mjs`);
  let bytes: Buffer;
  let inputs: string[];
  const externals = new Set<string>();
  // Times of inputs written after this are not trusted to describe what esbuild read.
  const startedAt = Date.now();
  const esbuild = await import("esbuild");
  try {
    const result = await esbuild.build({
      entryPoints: [source],
      outfile: staging,
      write: false,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node18",
      sourcemap: "external",
      sourcesContent: false,
      logLevel: "silent",
      metafile: true,
      // The program imports the API by package name wherever it lives on disk.
      alias: { [PACKAGE_NAME]: PROGRAM_API },
      plugins: [nativeExternals(externals)],
      // Bundled CommonJS dependencies may call require(): give the ESM bundle one.
      banner: { js: "import { createRequire as __mntCreateRequire } from 'node:module'; const require = __mntCreateRequire(import.meta.url);" },
    });
    bytes = withInlineSourceMap(result.outputFiles, outDir);
    // Relative to esbuild's working folder, the current one.
    inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(input));
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    const first = errors?.[0];
    if (first?.location) {
      const { file, line, column } = first.location;
      throw new MntError("program", `${file}:${line}:${column + 1}: ${first.text}`, "fix the program so that it compiles");
    }
    throw new MntError("program", `${entry}: ${first?.text ?? (error as Error).message}`);
  } finally {
    // Not awaited: stop() kills the service at once (a later build starts a new one).
    void esbuild.stop();
  }
  const hash = artefactId(bytes);
  const file = path.join(outDir, `program-${hash}.mjs`);
  writeFileSync(staging, bytes);
  renameSync(staging, file);
  const bundle: ProgramBundle = { file, hash, externals: [...externals].sort() };
  writeRecord(recordFile, recipe, inputs, startedAt, bundle);
  return bundle;
}

/** Bumped when the bundle's options change: a record of another recipe is not reused. */
const BUNDLE_FORMAT = 1;

/** What a reused bundle must have been made by, besides its inputs. */
interface Recipe {
  format: number;
  source: string;
  api: string;
  esbuild: string;
  node: string;
}

/** The record of one build: what it was made from (every input's size and time) and what it made. */
interface InputsRecord extends Recipe {
  inputs: Array<[file: string, size: number, mtimeMs: number, ctimeMs: number]>;
  bundle: ProgramBundle;
}

function bundleRecipe(source: string): Recipe {
  let esbuildVersion = "unknown";
  try {
    const manifest = createRequire(import.meta.url).resolve("esbuild/package.json");
    esbuildVersion = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  } catch {
    // Then a record is reused only by another run that could not tell either.
  }
  return { format: BUNDLE_FORMAT, source, api: PROGRAM_API, esbuild: esbuildVersion, node: process.versions.node };
}

/** The bundle of the last build when its record says every input is as it was; else null. */
export function freshBundle(recordFile: string, recipe: Recipe): ProgramBundle | null {
  let record: InputsRecord;
  try {
    record = JSON.parse(readFileSync(recordFile, "utf8")) as InputsRecord;
  } catch {
    return null;
  }
  for (const key of ["format", "source", "api", "esbuild", "node"] as const) if (record[key] !== recipe[key]) return null;
  if (!Array.isArray(record.inputs) || record.inputs.length === 0 || !existsSync(record.bundle?.file ?? "")) return null;
  for (const [file, size, mtimeMs, ctimeMs] of record.inputs) {
    const stat = statSync(file, { throwIfNoEntry: false });
    // ctime too: a file put back with its old time (tar, rsync -t) still gets a new ctime.
    if (!stat || stat.size !== size || stat.mtimeMs !== mtimeMs || stat.ctimeMs !== ctimeMs) return null;
  }
  return record.bundle;
}

/**
 * Filesystems whose times are this coarse (FAT: 2 s) still tell an edit made after the build from
 * the times recorded, since only inputs older than the build by this much are recorded.
 */
const TIME_GRAIN_MS = 2_000;

/**
 * Writes the record of a build, unless an input changed shortly before or while esbuild ran (its
 * time is then within TIME_GRAIN_MS of the start, or later) or cannot be read: the next run builds
 * again rather than trust it (one more build of a program just edited, then none).
 */
function writeRecord(recordFile: string, recipe: Recipe, inputs: string[], startedAt: number, bundle: ProgramBundle): void {
  const stats: InputsRecord["inputs"] = [];
  for (const file of inputs) {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile() || Math.max(stat.mtimeMs, stat.ctimeMs) >= startedAt - TIME_GRAIN_MS) return;
    stats.push([file, stat.size, stat.mtimeMs, stat.ctimeMs]);
  }
  const record: InputsRecord = { ...recipe, inputs: stats, bundle };
  const staging = `${recordFile}.${process.pid}`;
  writeFileSync(staging, JSON.stringify(record));
  renameSync(staging, recordFile);
}

/** Marks imports of native packages external and collects their names. */
function nativeExternals(found: Set<string>): Plugin {
  return {
    name: "mnt-native-externals",
    setup(esbuild) {
      const verdicts = new Map<string, boolean>();
      esbuild.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = packageName(args.path);
        if (name === PACKAGE_NAME || args.path.startsWith("node:") || builtinModules.includes(name)) return undefined;
        const dir = packageDir(name, args.resolveDir);
        if (dir === null) return undefined; // esbuild reports it, with the importer's position
        let native = verdicts.get(dir);
        if (native === undefined) verdicts.set(dir, (native = isNativePackage(dir)));
        if (!native) return undefined;
        found.add(name);
        return { path: args.path, external: true };
      });
    },
  };
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The folder Node.js would load package `name` from, looking up from `fromDir`. */
function packageDir(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * The bundle with its source map inline, the map's sources made absolute: the bundle is loaded
 * from other folders (and other hosts) than the one it was built in, and stacks must still name
 * the program's own files on this machine.
 */
function withInlineSourceMap(outputs: OutputFile[], outDir: string): Buffer {
  const code = outputs.find((output) => output.path.endsWith(".mjs"))!;
  const map = JSON.parse(outputs.find((output) => output.path.endsWith(".map"))!.text) as { sources: string[] };
  map.sources = map.sources.map((source) => pathToFileURL(path.resolve(outDir, source)).href);
  const text = code.text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
  return Buffer.from(`${text}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`);
}
