// Where Marionette's own files are, whether running from dist/ or from the TypeScript sources.
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { artefactId } from "../core/protocol/manifest.ts";

function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("mnt: cannot find its package.json");
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot();

/** The one-file agent bundle (built by `npm run build`). */
export const agentBundle = path.join(packageRoot, "dist", "agent.cjs");

/** Bundled programs and other build outputs. */
export function cacheDir(): string {
  return process.env.MNT_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "mnt");
}

/** The build id the agent reports in its hello (see core/protocol/manifest.ts). */
export function agentBuildHash(): string {
  return artefactId(readFileSync(agentBundle));
}
