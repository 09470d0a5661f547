// Shared data on the master's side of the wire: new versions and frees are announced to slaves
// and agents, and an agent's fetch of a blob is answered in chunks. The store itself (versions,
// blobs, epochs) is SharedStore; this module only speaks frames.
import { encode } from "../protocol/codec.ts";
import type { FrameChannel, IncomingFrame } from "../protocol/channel.ts";
import { FLAG_ERROR, FrameType } from "../protocol/frame.ts";
import type { SharedVersion } from "../protocol/messages.ts";
import { SharedFiles } from "./shared-files.ts";
import { SharedStore, type FreedVersions } from "./shared-store.ts";

/**
 * Shared data travels in frames of this size, not the 1 MiB frame limit: pipes and SSH channels
 * deliver 32–64 KiB reads, and every frame spread over several reads is joined (copied) by each
 * reader on the way. Measured on 256 MiB: 1 MiB frames ~80 MiB/s, 256 KiB ~150–190 MiB/s into one slave.
 */
const SHARED_CHUNK_BYTES = 256 * 1024;

/** Where announcements go: the ready slaves (with their agent's channel) and the agents. */
export interface SharedAudience {
  readySlaves(): Iterable<{ channel: FrameChannel; slave: number }>;
  agents(): Iterable<FrameChannel>;
}

export class SharedServer {
  readonly store = new SharedStore();
  bytesSent = 0;
  /** Folders on a shared file system that hosts read values from (AgentSpec.sharedDir). */
  private readonly files = new SharedFiles();

  constructor(private readonly audience: SharedAudience) {}

  /** A new version of `key`: every ready slave learns it at once (a small frame; bytes come on demand). */
  set(key: string, value: unknown): void {
    const version = this.store.set(key, value);
    this.files.write(version.hash, this.store.blob(version.hash)!);
    const payload = encode(version);
    for (const { channel, slave } of this.audience.readySlaves()) channel.send(FrameType.SharedVersion, slave, 0, payload);
    this.free(this.store.collect());
  }

  /** A slave that just became ready learns every live version before its first op. */
  introduce(channel: FrameChannel, slave: number): void {
    for (const version of this.store.liveVersions()) channel.send(FrameType.SharedVersion, slave, 0, encode(version satisfies SharedVersion));
  }

  /** An op issued at `epoch` has settled. */
  release(epoch: number): void {
    this.free(this.store.release(epoch));
  }

  /**
   * An agent asks for a blob by hash (once per host; it caches it for its slaves). `done` hears
   * when the bytes have all been handed to the channel (`ok` false: the blob was freed, or the
   * channel closed first).
   */
  answerFetch(channel: FrameChannel, frame: IncomingFrame, done?: (hash: string, bytes: number, ok: boolean) => void): void {
    const hash = frame.payload.toString("utf8");
    const bytes = this.store.blob(hash);
    if (!bytes) {
      channel.send(FrameType.SharedData, 0, frame.id, encode(new Error(`shared data ${hash.slice(0, 12)} was freed`)), FLAG_ERROR);
      done?.(hash, 0, false);
      return;
    }
    this.bytesSent += bytes.length;
    channel.sendStreaming(FrameType.SharedData, 0, frame.id, bytes, 0, SHARED_CHUNK_BYTES).then(
      () => done?.(hash, bytes.length, true),
      () => done?.(hash, bytes.length, false),
    );
  }

  /** Values are also written as files into `dir` from now on (those already set too). */
  mirrorTo(dir: string): void {
    this.files.add(dir, this.store.liveVersions().map((version) => [version.hash, this.store.blob(version.hash)!] as [string, Buffer]));
  }

  private free(freed: FreedVersions | null): void {
    if (!freed) return;
    this.files.remove(freed.hashes);
    const forSlaves = encode(freed);
    for (const { channel, slave } of this.audience.readySlaves()) channel.send(FrameType.SharedFree, slave, 0, forSlaves);
    if (freed.hashes.length === 0) return;
    const forAgents = encode(freed.hashes);
    for (const channel of this.audience.agents()) channel.send(FrameType.SharedFree, 0, 0, forAgents);
  }
}
