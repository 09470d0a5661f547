// A release folder for one target: the program bundle, the agent bundle, the native packages built
// for the target, and manifest.json listing every file with its size and sha256. It is written
// under a temporary name and renamed, so a folder with the final name is always whole.
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { artefactId, highestVersion, manifestBytes, releaseId, sha256Hex, type Manifest, type ManifestAddon, type ManifestFile } from "../../core/protocol/manifest.ts";
import type { Target } from "../targets.ts";

export const PROGRAM_FILE = "program.mjs";
export const AGENT_FILE = "agent.cjs";
export const MANIFEST_FILE = "manifest.json";

export interface ReleaseInput {
  target: Target;
  /** The program bundle (same for every target: it is JavaScript). */
  programFile: string;
  /** The one-file agent bundle; its source map beside it is taken along when present. */
  agentFile: string;
  /** A folder whose node_modules/ holds the native packages built for the target, or null. */
  nativesDir: string | null;
  addons: ManifestAddon[];
  /** The release folder to (re)write, e.g. `.mnt/build/linux-arm64`. */
  dir: string;
}

export interface Release {
  dir: string;
  id: string;
  manifest: Manifest;
}

export function writeRelease(input: ReleaseInput): Release {
  const staging = `${input.dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    copyFileSync(input.programFile, path.join(staging, PROGRAM_FILE));
    copyFileSync(input.agentFile, path.join(staging, AGENT_FILE));
    if (existsSync(`${input.agentFile}.map`)) copyFileSync(`${input.agentFile}.map`, path.join(staging, `${AGENT_FILE}.map`));
    if (input.nativesDir) {
      // Links are resolved: the release must mean the same bytes on a host that lacks their targets.
      cpSync(path.join(input.nativesDir, "node_modules"), path.join(staging, "node_modules"), {
        recursive: true,
        dereference: true,
        filter: (source) => path.basename(source) !== ".bin",
      });
    }
    const files = listFiles(staging);
    for (const file of files) {
      const time = contentTime(file.sha256);
      utimesSync(path.join(staging, file.path), time, time);
    }
    const manifest: Manifest = {
      format: 1,
      target: input.target.name,
      agent: AGENT_FILE,
      program: PROGRAM_FILE,
      agentBuild: artefactId(readFileSync(input.agentFile)),
      files,
      addons: input.addons,
      requires: requirementsOf(input.addons),
    };
    const manifestFile = path.join(staging, MANIFEST_FILE);
    writeFileSync(manifestFile, manifestBytes(manifest));
    const manifestTime = contentTime(sha256Hex(readFileSync(manifestFile)));
    utimesSync(manifestFile, manifestTime, manifestTime);
    const id = releaseId(manifest);
    // The same release already there (another run of the same program built it) is left alone:
    // agents may be running from it.
    if (readRelease(input.dir)?.id === id) {
      rmSync(staging, { recursive: true, force: true });
    } else {
      rmSync(input.dir, { recursive: true, force: true });
      renameSync(staging, input.dir);
    }
    return { dir: input.dir, id, manifest };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** The release in a folder, if one is there and its manifest is whole. */
export function readRelease(dir: string): Release | null {
  try {
    const bytes = readFileSync(path.join(dir, MANIFEST_FILE));
    const manifest = JSON.parse(bytes.toString("utf8")) as Manifest;
    return { dir, id: artefactId(bytes), manifest };
  } catch {
    return null;
  }
}

/**
 * The modification time a release file gets: a function of its content. rsync's and SFTP's quick
 * check (size and time) then means "same content", whenever and wherever the file was written
 * (a rebuilt agent keeps its time; two programs built in the same second that differ in one digit
 * do not share one), and tar's whole seconds lose nothing. Seconds after 2000-01-01, within 20 years.
 */
export function contentTime(sha256: string): number {
  return 946_684_800 + (parseInt(sha256.slice(0, 8), 16) % (20 * 365 * 86_400));
}

/** Every file under `root` but the manifest, with its size, sha256 and executable bit. */
export function listFiles(root: string): ManifestFile[] {
  const files: ManifestFile[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const rel = relative ? `${relative}/${name}` : name;
      const full = path.join(root, rel);
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(rel);
      else if (stat.isFile() && rel !== MANIFEST_FILE) {
        const entry: ManifestFile = { path: rel, size: stat.size, sha256: sha256Hex(readFileSync(full)) };
        if (stat.mode & 0o100) entry.executable = true;
        files.push(entry);
      }
    }
  };
  walk("");
  return files;
}

function requirementsOf(addons: ManifestAddon[]): Manifest["requires"] {
  const napi = addons.reduce<number | null>((max, addon) => (addon.napi === null ? max : Math.max(max ?? 0, addon.napi)), null);
  const abis = [...new Set(addons.map((addon) => addon.nodeAbi).filter((abi): abi is string => abi !== null))];
  return { napi, nodeAbi: abis[0] ?? null, glibc: highestVersion(addons.map((addon) => addon.glibc)) };
}

/** Total bytes of a manifest's files. */
export function releaseBytes(manifest: Manifest): number {
  return manifest.files.reduce((sum, file) => sum + file.size, 0);
}
