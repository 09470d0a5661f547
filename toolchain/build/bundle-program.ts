// Bundles a user program (TypeScript) into one ESM file with a source map, for master and slaves.
// Packages that cannot be bundled (native addons: their loaders look for `.node` files next to
// their own `__dirname`) stay external and are listed, so the build puts them, built for each
// target, in the release's node_modules beside the bundle.
import { build, type Message, type OutputFile, type Plugin } from "esbuild";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
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
  const staging = path.join(outDir, `build-${process.pid}.mjs`);
  let bytes: Buffer;
  const externals = new Set<string>();
  try {
    const result = await build({
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
      // The program imports the API by package name wherever it lives on disk.
      alias: { [PACKAGE_NAME]: PROGRAM_API },
      plugins: [nativeExternals(externals)],
      // Bundled CommonJS dependencies may call require(): give the ESM bundle one.
      banner: { js: "import { createRequire as __mntCreateRequire } from 'node:module'; const require = __mntCreateRequire(import.meta.url);" },
    });
    bytes = withInlineSourceMap(result.outputFiles, outDir);
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    const first = errors?.[0];
    if (first?.location) {
      const { file, line, column } = first.location;
      throw new MntError("program", `${file}:${line}:${column + 1}: ${first.text}`, "fix the program so that it compiles");
    }
    throw new MntError("program", `${entry}: ${first?.text ?? (error as Error).message}`);
  }
  const hash = artefactId(bytes);
  const file = path.join(outDir, `program-${hash}.mjs`);
  writeFileSync(staging, bytes);
  renameSync(staging, file);
  return { file, hash, externals: [...externals].sort() };
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
