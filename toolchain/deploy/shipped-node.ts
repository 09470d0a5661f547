// The Node.js mnt sends to hosts whose inventory says `node: ship`: the official build for the
// host's arch from the npm registry (native/official-node.ts, cached on this machine), sent like any
// release folder into `<workDir>/runtimes/<name>/`. Its file list is hashed once and kept beside it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ManifestFile } from "../../core/protocol/manifest.ts";
import { listFiles } from "../build/release-folder.ts";
import { officialNode } from "../native/official-node.ts";
import { cacheDir } from "../own-files.ts";
import type { Target } from "../targets.ts";

export interface ShippedNode {
  /** e.g. `node-v20.20.2-linux-arm64`: its folder name on the host, under `<workDir>/runtimes/`. */
  name: string;
  version: string;
  /** The unpacked package on this machine; `bin/node` in it. */
  dir: string;
  files: ManifestFile[];
}

export async function shippedNode(target: Target): Promise<ShippedNode> {
  const official = await officialNode(target, { cacheDir: cacheDir() });
  const dir = path.dirname(path.dirname(official.node));
  const listFile = `${dir}.files.json`;
  if (!existsSync(listFile)) writeFileSync(listFile, JSON.stringify(listFiles(dir)));
  return { name: `node-v${official.version}-${target.name}`, version: official.version, dir, files: JSON.parse(readFileSync(listFile, "utf8")) as ManifestFile[] };
}
