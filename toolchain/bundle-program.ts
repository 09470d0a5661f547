// Bundles a user program (TypeScript) into one ESM file with a source map, for master and slaves.
import { build, type Message, type OutputFile } from "esbuild";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MntError } from "../core/errors.ts";
import { artefactId } from "../core/protocol/manifest.ts";

const PACKAGE_NAME = "marionette-mnt";
const PROGRAM_API = fileURLToPath(new URL("../core/program/index.ts", import.meta.url));

export interface ProgramBundle {
  /** Absolute path of the bundled program (.mjs, source map beside it). */
  file: string;
  /** sha256 prefix of the bundle: names it, so the same program is not rebuilt or resent. */
  hash: string;
}

export async function bundleProgram(entry: string, outDir: string): Promise<ProgramBundle> {
  const source = path.resolve(entry);
  if (!existsSync(source)) throw new MntError("program", `${entry}: no such file`, "check the path of the program");
  mkdirSync(outDir, { recursive: true });
  const staging = path.join(outDir, `build-${process.pid}.mjs`);
  let bytes: Buffer;
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
  return { file, hash };
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
