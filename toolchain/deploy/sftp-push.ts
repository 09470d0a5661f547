// Makes a remote folder hold exactly a list of local files, over SFTP on mnt's SSH session: the
// fallback for hosts without rsync. Only what differs is sent (see push-plan.ts), several files at
// once, each with several writes in flight; the folder can first be filled from an older release
// on the host with one `cp -al`, so unchanged files cost nothing to send.
import { lstatSync } from "node:fs";
import path from "node:path";
import type { SshSession } from "../../core/connections/ssh/connect.ts";
import type { ManifestFile } from "../../core/protocol/manifest.ts";
import { forEachLimited } from "./limited.ts";
import { planPush, type LocalFile, type PushPlan } from "./push-plan.ts";
import { sameContentScript, seedScript } from "./push-scripts.ts";
import { explainFailure } from "./sftp-failure.ts";
import { homeRelative, remoteJoin } from "./remote-path.ts";
import { listRemoteTree } from "./remote-tree.ts";
import type { TransferResult } from "./rsync-over-ssh.ts";
import { openSftp, type SftpChannel } from "./sftp-call.ts";
import { sendFile } from "./sftp-send-file.ts";
import { TransferError, firstLine, fixForReason } from "./transfer-error.ts";

export interface SftpPushOptions {
  /** The folder on this machine the files are read from. */
  localDir: string;
  /** What the remote folder must hold (paths relative to both folders); anything else there is removed. */
  files: ReadonlyArray<Pick<ManifestFile, "path" | "size" | "sha256">>;
  /** The folder on the host: absolute, or relative to the login's home (`~/x` or `x`). Made when missing, not its parent. */
  remoteDir: string;
  /**
   * A folder on the host (relative to `remoteDir`, e.g. `../<previous>`, or absolute) that a new,
   * empty `remoteDir` is first filled from with one remote `cp`: then only what differs from it is
   * sent. Needs exec on the host.
   */
  seedFrom?: string;
  /** How the seed is copied: hard links (default; nothing is rewritten in place, so the seed is safe) or copies. */
  seedBy?: "hardlink" | "copy";
  /** Compare contents (sha256 on the host, one exec) instead of size and time: for a copy that may be corrupt. */
  checksum?: boolean;
  /** Files sent at once (default 16). */
  inFlight?: number;
  /** The host's name in messages. */
  label?: string;
  /** Told file bytes as the host acknowledges them. */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

export type SftpPushResult = Omit<TransferResult, "wireBytes">;

const DEFAULT_IN_FLIGHT = 16;

export async function sftpPush(session: SshSession, options: SftpPushOptions): Promise<SftpPushResult> {
  const label = options.label ?? session.target.given;
  const where = `${label}: SFTP push to ${options.remoteDir}`;
  options.signal?.throwIfAborted();
  const local = statLocalFiles(options.localDir, options.files, where);
  if (options.seedFrom) {
    const seeded = await session.run(seedScript(options.remoteDir, options.seedFrom, options.seedBy ?? "hardlink"));
    if (seeded.code !== 0) throw new TransferError("failed", `${where}: cannot fill it from ${options.seedFrom}: ${firstLine(seeded.stderr) || `exit ${seeded.code}`}`, fixForReason(seeded.stderr));
  }
  const channel = await openSftp(session);
  const push = new Push(session, channel, options, where);
  try {
    return await push.run(local);
  } finally {
    channel.end();
  }
}

/** Each listed file's size, time and mode here, refused when the list and the folder disagree. */
function statLocalFiles(localDir: string, files: SftpPushOptions["files"], where: string): LocalFile[] {
  return files.map((file) => {
    if (file.path === "" || path.posix.isAbsolute(file.path) || file.path.split("/").some((part) => part === ".." || part === "." || part === "")) {
      throw new TransferError("failed", `${where}: ${JSON.stringify(file.path)} is not a plain relative path`);
    }
    const full = path.join(localDir, file.path);
    let stat;
    try {
      stat = lstatSync(full);
    } catch (error) {
      throw new TransferError("failed", `${where}: ${full}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, "build the release again");
    }
    if (!stat.isFile()) throw new TransferError("failed", `${where}: ${full} is not a regular file`);
    if (stat.size !== file.size) throw new TransferError("failed", `${where}: ${full} has ${stat.size} bytes, its list says ${file.size}`, "build the release again");
    return { path: file.path, size: stat.size, mtime: Math.floor(stat.mtimeMs / 1000), mode: stat.mode & 0o7777 };
  });
}

/** One push: its SFTP channel, its root, and how renames go on this server. */
class Push {
  private readonly root: string;
  private posixRename = true;

  constructor(
    private readonly session: SshSession,
    private readonly channel: SftpChannel,
    private readonly options: SftpPushOptions,
    private readonly where: string,
  ) {
    // SFTP paths are not shell words: relative ones start at the login's home, `~/` means nothing.
    this.root = homeRelative(options.remoteDir);
  }

  async run(local: LocalFile[]): Promise<SftpPushResult> {
    const inFlight = this.options.inFlight ?? DEFAULT_IN_FLIGHT;
    let remote = await this.step("read", this.root, () => listRemoteTree(this.channel, this.root, inFlight));
    if (remote === null) {
      await this.step("mkdir", this.root, () => this.channel.call((callback) => this.channel.sftp.mkdir(this.root, callback)));
      remote = new Map();
    }
    const sameContent = this.options.checksum ? await this.sameContent(local, remote) : undefined;
    const plan = planPush(local, remote, sameContent);
    await this.apply(plan, inFlight);
    return {
      bytesSent: plan.send.reduce((sum, file) => sum + file.size, 0),
      filesChanged: plan.send.length,
      filesDeleted: plan.remove.length,
    };
  }

  private async apply(plan: PushPlan, inFlight: number): Promise<void> {
    // Removals and folders go level by level (a folder's entries before it, a parent before its child).
    for (const level of byDepth(plan.remove, (entry) => entry.path, "deepest")) {
      await forEachLimited(level, inFlight, (entry) => {
        const full = this.full(entry.path);
        return entry.kind === "dir"
          ? this.step("rmdir", full, () => this.channel.call((callback) => this.channel.sftp.rmdir(full, callback)))
          : this.step("remove", full, () => this.channel.call((callback) => this.channel.sftp.unlink(full, callback)));
      });
    }
    for (const level of byDepth(plan.mkdir, (dir) => dir, "shallowest")) {
      await forEachLimited(level, inFlight, (dir) => this.step("mkdir", this.full(dir), () => this.channel.call((callback) => this.channel.sftp.mkdir(this.full(dir), callback))));
    }
    await forEachLimited(plan.send, inFlight, async (file) => {
      this.options.signal?.throwIfAborted();
      const full = this.full(file.path);
      await this.step("write", full, () =>
        sendFile(this.channel, path.join(this.options.localDir, file.path), full, file, { renameOver: (from, to) => this.renameOver(from, to), onBytes: this.options.onBytes, signal: this.options.signal }),
        file.size,
      );
    });
  }

  /** The files whose sha256 on the host is the listed one (only those of the right size are hashed). */
  private async sameContent(local: LocalFile[], remote: Map<string, { kind: string; size: number }>): Promise<Set<string>> {
    const hashes = new Map(this.options.files.map((file) => [file.path, file.sha256]));
    const candidates = local.filter((file) => remote.get(file.path)?.kind === "file" && remote.get(file.path)?.size === file.size);
    if (candidates.length === 0) return new Set();
    const input = candidates.map((file) => `${hashes.get(file.path)}  ${file.path}\n`).join("");
    const checked = await this.session.run(sameContentScript(this.options.remoteDir), input);
    if (checked.code !== 0) throw new TransferError("failed", `${this.where}: cannot hash the files there: ${firstLine(checked.stderr) || `exit ${checked.code}`}`);
    const ok = new Set(checked.stdout.split("\n"));
    return new Set(candidates.filter((file) => ok.has(`${file.path}: OK`)).map((file) => file.path));
  }

  /** posix-rename@openssh.com replaces the target in one step; without it, remove then rename. */
  private async renameOver(from: string, to: string): Promise<void> {
    if (this.posixRename) {
      try {
        return await this.channel.call((callback) => this.channel.sftp.ext_openssh_rename(from, to, callback));
      } catch (error) {
        if (!/does not support/.test((error as Error).message)) throw error;
        this.posixRename = false;
      }
    }
    await this.channel.call((callback) => this.channel.sftp.unlink(to, callback)).catch(() => {});
    await this.channel.call((callback) => this.channel.sftp.rename(from, to, callback));
  }

  private full(relative: string): string {
    return remoteJoin(this.root, relative);
  }

  /**
   * Runs one SFTP step; its failure becomes a TransferError naming the step and the path, with
   * the OS's own reason when the server only said "Failure" (it does for a read-only or full disk).
   */
  private async step<T>(what: string, remotePath: string, work: () => Promise<T>, needBytes = 0): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof TransferError) throw error;
      // ssh2 fails what was in flight when the channel went with "No response from server".
      let reason = this.channel.lost?.message ?? (error as Error).message;
      if (/^(Failure|Permission denied)$/i.test(reason)) {
        const cause = await explainFailure(this.channel, this.session, remotePath, needBytes);
        if (cause) reason = `${reason}: ${cause}`;
      }
      throw new TransferError("failed", `${this.where} failed: ${what} ${remotePath}: ${reason}`, fixForReason(reason), { cause: error });
    }
  }
}

function byDepth<T>(items: readonly T[], pathOf: (item: T) => string, first: "deepest" | "shallowest"): T[][] {
  const levels = new Map<number, T[]>();
  for (const item of items) {
    const depth = pathOf(item).split("/").length;
    const level = levels.get(depth);
    if (level) level.push(item);
    else levels.set(depth, [item]);
  }
  const depths = [...levels.keys()].sort((a, b) => (first === "deepest" ? b - a : a - b));
  return depths.map((depth) => levels.get(depth)!);
}
