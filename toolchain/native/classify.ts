// How each native package of the closure gets its addon for the target: a prebuild it ships, a
// per-platform package npm chose by os/cpu, or a build from source with the cross compiler.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";
import type { Target } from "../targets.ts";
import { findNodeFile, nativeReason, NODE_FILE_DEPTH, readPackageJson } from "./detect.ts";
import type { ClosurePackage } from "./lockfile.ts";

export type AddonKind = "prebuild" | "platform-package" | "source";

/** prebuildify's folder for a target: `${platform}-${arch}` in Node's names (`linux-arm64`, `linux-arm`). */
export function prebuildFolder(target: Target): string {
  return `${target.platform}-${target.arch}`;
}

/**
 * The kind of `pkg` (unpacked at `dir`) for the target; null when it is not native. `closure` is
 * the whole closure, to see whether a per-platform package for the target is in it.
 */
export function addonKind(pkg: ClosurePackage, dir: string, target: Target, closure: readonly ClosurePackage[]): AddonKind | null {
  if (pkg.isPlatformPackage) return "platform-package";
  const buildable = hasBindingGyp(dir);
  if (pkg.platformPackages.length > 0) {
    const chosen = closure.some((other) => other.isPlatformPackage && pkg.platformPackages.includes(other.name));
    if (chosen) return "platform-package";
    // node-gyp-build-optional-packages style: per-platform packages, and the sources as a fallback.
    if (buildable) return "source";
    throw new MntError(
      "config",
      `${pkg.name}@${pkg.version} has no package for ${target.name} (it has ${pkg.platformPackages.join(", ")}) and no binding.gyp to build one`,
      `leave ${target.name} out of --arch, or replace ${pkg.name}`,
    );
  }
  const reason = nativeReason(dir);
  if (reason === null) return null;
  if (hasNodeFiles(path.join(dir, "prebuilds", prebuildFolder(target)))) return "prebuild";
  if (buildable) return "source";
  // `.node` files shipped elsewhere than prebuilds/ (farmhash's build/*.node): kept as they are, the ELF check judges them.
  if (!existsSync(path.join(dir, "prebuilds")) && findNodeFile(dir, NODE_FILE_DEPTH) !== null) return "prebuild";
  const shipped = existsSync(path.join(dir, "prebuilds")) ? readdirSync(path.join(dir, "prebuilds")).join(", ") : "none";
  throw new MntError(
    "config",
    `${pkg.name}@${pkg.version} (${reason}) has no prebuild for ${target.name} (prebuilds: ${shipped}) and no binding.gyp to build one`,
    `leave ${target.name} out of --arch, or replace ${pkg.name}`,
  );
}

export function hasBindingGyp(dir: string): boolean {
  return existsSync(path.join(dir, "binding.gyp")) || readPackageJson(dir).gypfile === true;
}

function hasNodeFiles(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => name.endsWith(".node"));
  } catch {
    return false;
  }
}
