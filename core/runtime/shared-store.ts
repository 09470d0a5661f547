// Shared data at the master: immutable versions, content-addressed blobs, and freeing of versions
// that no queued or running op can read any more.
import { createHash } from "node:crypto";
import { encode } from "../protocol/codec.ts";
import type { SharedVersion } from "../protocol/messages.ts";

interface Blob {
  bytes: Buffer;
  /** Versions (of any key) holding this content. */
  refs: number;
}

export interface FreedVersions {
  versions: Array<{ key: string; epoch: number }>;
  /** Content no version refers to any more. */
  hashes: string[];
}

export class SharedStore {
  /** Bumped by every set: an op reads, for each key, the newest version with epoch <= its own. */
  epoch = 0;
  versionsCreated = 0;
  private readonly versions = new Map<string, SharedVersion[]>();
  private readonly blobs = new Map<string, Blob>();
  /** epoch → number of queued or running ops issued at that epoch. */
  private readonly outstanding = new Map<number, number>();

  set(key: string, value: unknown): SharedVersion {
    const bytes = encode(value, `shared value ${JSON.stringify(key)}`);
    const hash = createHash("sha256").update(bytes).digest("hex");
    const blob = this.blobs.get(hash);
    if (blob) blob.refs++;
    else this.blobs.set(hash, { bytes, refs: 1 });
    const version: SharedVersion = { key, epoch: ++this.epoch, hash, size: bytes.length };
    const list = this.versions.get(key);
    if (list) list.push(version);
    else this.versions.set(key, [version]);
    this.versionsCreated++;
    return version;
  }

  blob(hash: string): Buffer | undefined {
    return this.blobs.get(hash)?.bytes;
  }

  /** Every version some op may still read: what a new slave must be told. */
  liveVersions(): SharedVersion[] {
    return [...this.versions.values()].flat();
  }

  /** An op issued now holds the current epoch until `release`. Returns that epoch. */
  retain(): number {
    const epoch = this.epoch;
    this.outstanding.set(epoch, (this.outstanding.get(epoch) ?? 0) + 1);
    return epoch;
  }

  /** The op issued at `epoch` is finished; returns what can be freed now. */
  release(epoch: number): FreedVersions | null {
    const count = (this.outstanding.get(epoch) ?? 1) - 1;
    if (count > 0) {
      this.outstanding.set(epoch, count);
      return null;
    }
    this.outstanding.delete(epoch);
    return this.collect();
  }

  /** Frees superseded versions that no outstanding op can read. */
  collect(): FreedVersions | null {
    const freed: FreedVersions = { versions: [], hashes: [] };
    for (const [key, list] of this.versions) {
      if (list.length < 2) continue;
      const keep: SharedVersion[] = [];
      for (let i = 0; i < list.length; i++) {
        const version = list[i]!;
        const next = list[i + 1];
        // The newest version stays; an older one is readable by ops issued in [its epoch, next's epoch).
        if (!next || this.readable(version.epoch, next.epoch)) {
          keep.push(version);
          continue;
        }
        freed.versions.push({ key, epoch: version.epoch });
        const blob = this.blobs.get(version.hash)!;
        if (--blob.refs === 0) {
          this.blobs.delete(version.hash);
          freed.hashes.push(version.hash);
        }
      }
      this.versions.set(key, keep);
    }
    return freed.versions.length > 0 ? freed : null;
  }

  private readable(from: number, to: number): boolean {
    for (const epoch of this.outstanding.keys()) if (epoch >= from && epoch < to) return true;
    return false;
  }

  get liveVersionCount(): number {
    let n = 0;
    for (const list of this.versions.values()) n += list.length;
    return n;
  }

  get liveBytes(): number {
    let n = 0;
    for (const blob of this.blobs.values()) n += blob.bytes.length;
    return n;
  }
}
