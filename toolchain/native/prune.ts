// Drops what a target's release does not need from a native package: other platforms' prebuilds,
// musl variants (the targets are glibc systems), and node-gyp's intermediate files.
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Target } from "../targets.ts";
import { prebuildFolder } from "./classify.ts";

/** Keeps only `prebuilds/<platform>-<arch>/`, without its musl builds. */
export function prunePrebuilds(packageDir: string, target: Target): void {
  const prebuilds = path.join(packageDir, "prebuilds");
  for (const folder of list(prebuilds)) {
    const dir = path.join(prebuilds, folder);
    if (folder !== prebuildFolder(target)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    dropMuslBuilds(dir);
  }
  // None for the target (a source build follows): no empty folder for loaders to look into.
  if (list(prebuilds).length === 0) rmSync(prebuilds, { recursive: true, force: true });
}

/**
 * Removes the `.node` files of `dir` tagged for musl, prebuildify's dot-separated tags
 * (`name.napi.armv7.musl.node`): node-gyp-build never picks them on a glibc system.
 */
export function dropMuslBuilds(dir: string): void {
  for (const file of list(dir)) if (file.endsWith(".node") && file.split(".").includes("musl")) rmSync(path.join(dir, file), { force: true });
}

/**
 * After a source build: only the addons stay in node-gyp's build folders (`build/Release/*.node`);
 * object files, makefiles and `obj.target` copies go. node-pre-gyp's `build-tmp-*` folders go whole:
 * it copied the addon to its module_path.
 */
export function pruneBuildOutputs(packageDir: string, usesNodePreGyp: boolean): void {
  for (const entry of list(packageDir)) {
    const dir = path.join(packageDir, entry);
    if (entry.startsWith("build-tmp-") && usesNodePreGyp) {
      rmSync(dir, { recursive: true, force: true });
    } else if (entry === "build" || entry.startsWith("build-tmp-")) {
      for (const inner of list(dir)) {
        const innerPath = path.join(dir, inner);
        if (inner !== "Release" && inner !== "Debug") rmSync(innerPath, { recursive: true, force: true });
        else for (const file of list(innerPath)) if (!file.endsWith(".node")) rmSync(path.join(innerPath, file), { recursive: true, force: true });
      }
    }
  }
}

/**
 * Removes every `node_modules/.bin` under `modulesDir` (itself a node_modules): npm links them for
 * the build's scripts; a release runs no package's bin.
 */
export function removeBinLinks(modulesDir: string): void {
  rmSync(path.join(modulesDir, ".bin"), { recursive: true, force: true });
  for (const entry of list(modulesDir)) {
    const packages = entry.startsWith("@") ? list(path.join(modulesDir, entry)).map((name) => path.join(entry, name)) : [entry];
    for (const pkg of packages) {
      const nested = path.join(modulesDir, pkg, "node_modules");
      if (list(nested).length > 0) removeBinLinks(nested);
    }
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
