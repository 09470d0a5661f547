// One file sent over SFTP: written under a temporary name next to its final one with several
// WRITE requests in flight, given its mode and modification time, then renamed over the old one,
// so a reader (or an older release the old file is hard-linked into) never sees it half-written.
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { SftpChannel } from "./sftp-call.ts";
import type { LocalFile } from "./push-plan.ts";

/**
 * Bytes per WRITE request: under OpenSSH's 256 KiB packet limit, so ssh2 never splits one into
 * requests that wait for each other.
 */
const CHUNK = 128 * 1024;
/** WRITE requests in flight per file: a large file fills the link without one file's latency per chunk. */
const WRITES_IN_FLIGHT = 4;

export interface SendFileOptions {
  /** Renames the finished temporary file over the final one (an existing file included). */
  renameOver: (from: string, to: string) => Promise<void>;
  onBytes?: (bytes: number) => void;
  /** Stops between two chunks (the temporary file is removed). */
  signal?: AbortSignal;
}

/** Sends `localPath` to `remotePath`; resolves with the bytes sent. */
export async function sendFile(channel: SftpChannel, localPath: string, remotePath: string, file: LocalFile, options: SendFileOptions): Promise<number> {
  const temporary = path.posix.join(path.posix.dirname(remotePath), `.${path.posix.basename(remotePath)}.mnt-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  let sent = 0;
  const handle = await channel.call<Buffer>((callback) => channel.sftp.open(temporary, "w", { mode: file.mode }, callback));
  try {
    const local = await open(localPath, "r");
    try {
      sent = await writeAll(channel, handle, local, options);
    } finally {
      await local.close();
    }
    if (sent !== file.size) throw new Error(`${localPath} changed while it was sent (${file.size} bytes listed, ${sent} read)`);
    // fsetstat after the writes: the mode exactly (open's mode goes through the server's umask), the time as here.
    await channel.call((callback) => channel.sftp.fsetstat(handle, { mode: file.mode, atime: file.mtime, mtime: file.mtime }, callback));
  } catch (error) {
    await channel.call((callback) => channel.sftp.close(handle, callback)).catch(() => {});
    await channel.call((callback) => channel.sftp.unlink(temporary, callback)).catch(() => {});
    throw error;
  }
  await channel.call((callback) => channel.sftp.close(handle, callback));
  await options.renameOver(temporary, remotePath);
  return sent;
}

async function writeAll(channel: SftpChannel, handle: Buffer, local: FileHandle, { onBytes, signal }: SendFileOptions): Promise<number> {
  const inFlight: Array<Promise<void>> = [];
  let position = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const buffer = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await local.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) break;
      const at = position;
      position += bytesRead;
      const write = channel.call((callback) => channel.sftp.write(handle, buffer, 0, bytesRead, at, callback)).then(() => onBytes?.(bytesRead));
      // Marked handled now; awaited (and so thrown) in order below.
      write.catch(() => {});
      inFlight.push(write);
      if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
    }
  } finally {
    // Nothing of this file may still be in flight when it is closed (or removed after a failure).
    await Promise.allSettled(inFlight);
  }
  await Promise.all(inFlight);
  return position;
}
