// Whether a package can be bundled or must ship as files beside the bundle: a native addon (a
// `.node` file, or the means to build or fetch one) cannot be inlined by esbuild. The build's esbuild
// plugin marks such imports external; the installer gives each one its closure, built per target.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Packages whose only job is to find, fetch or build a package's addon at install or load time. */
export const ADDON_LOADERS: readonly string[] = [
  "node-gyp-build",
  "node-gyp-build-optional-packages",
  "bindings",
  "prebuild-install",
  "@mapbox/node-pre-gyp",
  "node-pre-gyp",
];

/** How many folders deep the search for `.node` files goes (a package's own tree, not its node_modules). */
export const NODE_FILE_DEPTH = 6;

/** What a package.json and a package-lock entry both say of a package: who it is, where it runs, what it needs. */
export interface PackageFields {
  name?: string;
  version?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface PackageJson extends PackageFields {
  gypfile?: boolean;
  scripts?: Record<string, string>;
  binary?: { module_path?: string };
}

export function readPackageJson(packageDir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as PackageJson;
}

/** True when the package in `packageDir` cannot be bundled (see `nativeReason`). */
export function isNativePackage(packageDir: string): boolean {
  return nativeReason(packageDir) !== null;
}

/**
 * Why the package is native, in a few words (`has binding.gyp`, `depends on node-gyp-build`,
 * `has per-platform packages (@node-rs/crc32-linux-x64-gnu…)`), or null when it can be bundled.
 */
export function nativeReason(packageDir: string): string | null {
  const manifest = readPackageJson(packageDir);
  if (existsSync(path.join(packageDir, "binding.gyp")) || manifest.gypfile === true) return "has binding.gyp";
  if (existsSync(path.join(packageDir, "prebuilds"))) return "has prebuilds/";
  const loader = ADDON_LOADERS.find((name) => manifest.dependencies?.[name] !== undefined);
  if (loader) return `depends on ${loader}`;
  const platformPackages = perPlatformPackages(packageDir, manifest);
  if (platformPackages.length > 0) return `has per-platform packages (${platformPackages.slice(0, 2).join(", ")}${platformPackages.length > 2 ? "…" : ""})`;
  const nodeFile = findNodeFile(packageDir, NODE_FILE_DEPTH);
  if (nodeFile) return `ships ${path.relative(packageDir, nodeFile)}`;
  return null;
}

/**
 * The optional dependencies that are per-platform builds, napi-rs and esbuild style: those installed
 * here declare `os` or `cpu` in their package.json; those not installed here (other platforms) are
 * told by a `<platform>-<arch>` in their name, as all these tools name them.
 */
export function perPlatformPackages(packageDir: string, manifest: PackageJson = readPackageJson(packageDir)): string[] {
  const optional = Object.keys(manifest.optionalDependencies ?? {});
  return optional.filter((name) => {
    const installed = installedManifest(packageDir, name);
    if (installed) return installed.os !== undefined || installed.cpu !== undefined;
    return PLATFORM_IN_NAME.test(name);
  });
}

const PLATFORM_IN_NAME = /(?:^|[-/@])(?:linux|darwin|win32|freebsd|openbsd|netbsd|android|sunos|aix)-(?:x64|arm64|arm|ia32|riscv64|ppc64|s390x|loong64|mips64el|wasm32)\b/;

function installedManifest(fromDir: string, name: string): PackageJson | null {
  const dir = findInstalledPackage(fromDir, name);
  return dir ? readPackageJson(dir) : null;
}

/**
 * Where `name` is installed as seen from `fromDir`: the nearest `node_modules/<name>` going up, as
 * Node.js resolves it (without `exports`, which may hide package.json).
 */
export function findInstalledPackage(fromDir: string, name: string): string | null {
  for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== "node_modules") {
      const candidate = path.join(dir, "node_modules", name);
      if (existsSync(path.join(candidate, "package.json"))) return candidate;
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/** The first `.node` file in the package's own tree (nested node_modules are other packages). */
export function findNodeFile(dir: string, depth: number): string | null {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  for (const entry of entries) if (entry.isFile() && entry.name.endsWith(".node")) return path.join(dir, entry.name);
  if (depth === 0) return null;
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const found = findNodeFile(path.join(dir, entry.name), depth - 1);
    if (found) return found;
  }
  return null;
}
