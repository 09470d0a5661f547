// Bundles a user program (TypeScript) into one ESM file with a source map, for master and slaves.
import { build, type Message } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MntError } from "../core/errors.ts";

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
  try {
    await build({
      entryPoints: [source],
      outfile: staging,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node18",
      sourcemap: "inline",
      sourcesContent: false,
      logLevel: "silent",
      // The program imports the API by package name wherever it lives on disk.
      alias: { [PACKAGE_NAME]: PROGRAM_API },
      // Bundled CommonJS dependencies may call require(): give the ESM bundle one.
      banner: { js: "import { createRequire as __mntCreateRequire } from 'node:module'; const require = __mntCreateRequire(import.meta.url);" },
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    const first = errors?.[0];
    if (first?.location) {
      const { file, line, column } = first.location;
      throw new MntError("program", `${file}:${line}:${column + 1}: ${first.text}`, "fix the program so that it compiles");
    }
    throw new MntError("program", `${entry}: ${first?.text ?? (error as Error).message}`);
  }
  const bytes = readFileSync(staging);
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const file = path.join(outDir, `program-${hash}.mjs`);
  const { renameSync } = await import("node:fs");
  renameSync(staging, file);
  return { file, hash };
}
