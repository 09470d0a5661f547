// Deploying one host: pick the release for its target, bring the folder on the host to exactly the
// release's bytes (nothing sent when it already is; a half-written or corrupt one mended), check
// every file's sha256 there, then switch `current` and prune old releases. The previous `current`
// keeps working until the new release is whole and checked.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { HostShell } from "../../core/connections/connection.ts";
import type { HostFacts } from "../../core/connections/ssh/probe.ts";
import { MntError } from "../../core/errors.ts";
import { compareDotted, sha256Hex, type ManifestFile } from "../../core/protocol/manifest.ts";
import { MANIFEST_FILE, type Release } from "../build/release-folder.ts";
import { targetFor, type Target } from "../targets.ts";
import { checksumList, finishScript, parseState, stateScript, switchLines, switchScript, type FolderState } from "./remote-scripts.ts";
import { sendFolder, type Sent } from "./send-folder.ts";
import { firstLine, fixForReason } from "./transfer-error.ts";

/** Releases kept per target on a host (the current one among them). */
export const KEEP_RELEASES = 3;

export interface FolderOnHost {
  /** The local folder and the files it must have on the host (with sha256). */
  localDir: string;
  files: ManifestFile[];
  /** Relative to the work folder, e.g. `releases/<id>`. */
  folder: string;
  /** Check every file's hash each time (releases), or only after a transfer (a shipped Node.js: 90 MB). */
  verifyAlways: boolean;
}

export interface HostContext {
  name: string;
  session: HostShell;
  facts: HostFacts;
  workDir: string;
}

/** The target a host runs, or a one-line error naming the host. */
export function targetOfHost(host: HostContext): Target {
  const target = targetFor(host.facts.platform, host.facts.arch);
  if (!target) {
    throw new MntError("infrastructure", `${host.name}: runs ${host.facts.platform}-${host.facts.arch}, which mnt does not build for`, "take the host out of the hosts file");
  }
  return target;
}

/** Refuses a release the host cannot load (N-API level, glibc floor, musl), with the fix. */
export function checkRequirements(host: HostContext, release: Release): void {
  const { facts } = host;
  const { requires } = release.manifest;
  if (facts.node !== null) {
    if (requires.napi !== null && facts.napi !== null && facts.napi < requires.napi) {
      throw new MntError("infrastructure", `${host.name}: its Node.js ${facts.node} has N-API ${facts.napi}, the release's addons need ${requires.napi}`, "install a newer Node.js there, or set node: ship");
    }
  }
  if (requires.glibc !== null && facts.libc?.family === "glibc" && facts.libc.version !== null && compareDotted(facts.libc.version, requires.glibc) < 0) {
    throw new MntError("infrastructure", `${host.name}: has glibc ${facts.libc.version}, the release's addons need ${requires.glibc} or newer`, "build the addons against an older glibc, or upgrade the host");
  }
  if (facts.libc?.family === "musl" && release.manifest.addons.length > 0) {
    throw new MntError("infrastructure", `${host.name}: uses musl libc; the release's addons are built for glibc`, "run the program on glibc hosts");
  }
}

/** The files of a release as the host must have them: the manifest's list plus manifest.json itself. */
export function releaseFiles(release: Release): ManifestFile[] {
  const bytes = readFileSync(path.join(release.dir, MANIFEST_FILE));
  return [...release.manifest.files, { path: MANIFEST_FILE, size: bytes.length, sha256: sha256Hex(bytes) }];
}

/** Where a transfer into `folder` writes before the folder gets its name. */
function incomingOf(folder: FolderOnHost): string {
  return `${path.posix.dirname(folder.folder)}/.incoming-${path.posix.basename(folder.folder)}`;
}

/** The exec that reads a folder's state (see stateScript): its script and its stdin. */
export function stateCheck(workDir: string, folder: FolderOnHost, prepare: boolean): { script: string; input: string } {
  return { script: stateScript(workDir, folder.folder, folder.verifyAlways, prepare ? incomingOf(folder) : undefined), input: checksumList(folder.files) };
}

/** The state that exec printed, or the one-line error naming the host when it failed. */
export function readState(host: HostContext, result: { code: number | null; stdout: string; stderr?: string }): FolderState {
  if (result.code !== 0) throw workDirError(host, { code: result.code, stderr: result.stderr ?? "" });
  return parseState(result.stdout);
}

/**
 * Reads the state of a folder on the host: is it there, whole, and right? With `prepare`, a folder
 * that is not gets its transfer made ready in the same exec (ensureFolder then sends at once).
 */
export async function folderState(host: HostContext, folder: FolderOnHost, prepare: boolean): Promise<FolderState> {
  const { script, input } = stateCheck(host.workDir, folder, prepare);
  return readState(host, await host.session.run(script, input));
}

/** A release as a folder the host must hold. */
export function releaseFolder(release: Release): FolderOnHost {
  return { localDir: release.dir, files: releaseFiles(release), folder: `releases/${release.id}`, verifyAlways: true };
}

/**
 * Brings the folder on the host to the local one's bytes when its state (read with `prepare`) says
 * it is not: sends only what differs (unchanged files are linked from `linkFrom`, e.g. the current
 * release), then checks every hash there, gives it its final name and runs `then` (switchLines),
 * all in one exec.
 */
export async function ensureFolder(host: HostContext, folder: FolderOnHost, state: FolderState, linkFrom: string | null, then: string[], onBytes?: (bytes: number) => void): Promise<Sent> {
  if (state.state === "ok") return { bytesSent: 0, filesChanged: 0, via: "none" };
  const incoming = incomingOf(folder);
  const send = (byContent: boolean) =>
    sendFolder(host, {
      localDir: folder.localDir,
      files: folder.files,
      remote: incoming,
      linkFrom: linkFrom && linkFrom !== folder.folder ? linkFrom : null,
      byContent,
      fresh: state.state === "missing",
      onBytes,
    });
  const finish = () => host.session.run(finishScript(host.workDir, folder.folder, incoming, then), checksumList(folder.files));
  // A corrupt file may keep its size and time: then compare contents, not the quick check.
  let sent = await send(state.state === "corrupt");
  let finished = await finish();
  if (finished.code === 4 && state.state !== "corrupt") {
    // The quick check let a wrong file through (a time set by hand, a clock gone back): once more by content.
    const again = await send(true);
    sent = { ...again, bytesSent: sent.bytesSent + again.bytesSent, filesChanged: Math.max(sent.filesChanged, again.filesChanged) };
    finished = await finish();
  }
  if (finished.code === 4) {
    throw new MntError("infrastructure", `${host.name}: ${folder.folder} does not match its sha256 list after the transfer (${firstLine(finished.stderr)})`, "run mnt deploy again; if it persists, check the host's disk");
  }
  if (finished.code !== 0) throw workDirError(host, finished);
  return sent;
}

/** The lines that point `current` at the release and keep the newest KEEP_RELEASES of its target. */
export function switchTo(folder: string, target: Target): string[] {
  return switchLines(folder, target.name, KEEP_RELEASES);
}

/** Points `current` at the release and keeps the newest KEEP_RELEASES of its target. */
export async function switchCurrent(host: HostContext, folder: string, target: Target): Promise<void> {
  const result = await host.session.run(switchScript(host.workDir, folder, target.name, KEEP_RELEASES));
  if (result.code !== 0) throw workDirError(host, result);
}

function workDirError(host: HostContext, result: { code: number | null; stderr: string }): MntError {
  const reason = result.stderr.trim() ? firstLine(result.stderr) : result.code === null ? "the command ended without an exit status" : `exit ${result.code}, no message`;
  const fix = fixForReason(reason) ?? "check workDir in the hosts file";
  return new MntError("infrastructure", `${host.name}: cannot use the work folder ${host.workDir}: ${reason}`, fix);
}
