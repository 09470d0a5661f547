// The shell scripts a deploy runs on a host, one exec each (the costly part of a no-change deploy is
// round trips, so each script does all it can). Every path is quoted; the work folder is a word
// from remoteDirWord (`~/x` → "$HOME"/x). GNU coreutils or busybox: sha256sum, mv -T, ln -sfn.
import { quote } from "shell-quote";
import { remoteDirWord } from "../../core/connections/agent-command.ts";

/** The marker a folder gets once every file in it is there and checked. */
export const COMPLETE_MARKER = ".mnt-complete";
/** A random id written once per file system: hosts that read the same id share the work folder. */
export const FS_ID_FILE = ".mnt-fs-id";

/**
 * The sha256 list comes on stdin and is read whole before anything else: a script that exited
 * without reading it (a folder not there yet) left the list in flight, and sshd then sometimes
 * closed the channel without an exit status.
 */
const READ_SUMS = `sums=$(cat)`;

/** `sha256sum -c` input for a list of files. */
export function checksumList(files: Array<{ path: string; sha256: string }>): string {
  return files.map((file) => `${file.sha256}  ${file.path}\n`).join("");
}

/**
 * The state of `folder` (relative to the work folder) and of the work folder itself: prints
 * `state=ok|corrupt|partial|missing`, up to 5 `bad=` lines, `current=<link target>` and `fs=<id>`.
 * With `verify`, a complete folder is checked against the sha256 list given on stdin. When it is
 * not ok and `incoming` is given, that folder is made ready for a transfer in the same round trip
 * (see prepareLines).
 */
export function stateScript(workDir: string, folder: string, verify: boolean, incoming?: string): string {
  const f = quote([folder]);
  const check = verify ? `if out=$(cd ${f} && printf '%s\\n' "$sums" | sha256sum -c --quiet - 2>&1); then st=ok; else st=corrupt; fi` : "st=ok";
  return [
    READ_SUMS,
    `cd ${remoteDirWord(workDir)} || exit 3`,
    `out=; if [ -f ${f}/${COMPLETE_MARKER} ]; then ${check}; elif [ -d ${f} ]; then st=partial; else st=missing; fi`,
    `echo "state=$st"; [ -z "$out" ] || printf '%s\\n' "$out" | head -n 5 | sed 's/^/bad=/'`,
    `echo "current=$(readlink current 2>/dev/null)"`,
    // ln refuses to replace an existing name: of two hosts racing on a shared folder, one id wins.
    `[ -f ${FS_ID_FILE} ] || { t=${FS_ID_FILE}.$$; head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \\n' > $t && ln $t ${FS_ID_FILE} 2>/dev/null; rm -f $t; }`,
    `echo "fs=$(cat ${FS_ID_FILE} 2>/dev/null)"`,
    ...(incoming === undefined ? [] : [`if [ "$st" != ok ]; then ${prepareLines(folder, incoming).join(" && ")} || exit 3; fi`]),
  ].join("\n");
}

export interface FolderState {
  state: "ok" | "corrupt" | "partial" | "missing";
  bad: string[];
  /** What `current` points at (e.g. `releases/0123abcd…`), or "" when there is none. */
  current: string;
  fsId: string;
}

export function parseState(stdout: string): FolderState {
  const result: FolderState = { state: "missing", bad: [], current: "", fsId: "" };
  for (const line of stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (key === "state") result.state = value as FolderState["state"];
    else if (key === "bad") result.bad.push(value);
    else if (key === "current") result.current = value;
    else if (key === "fs") result.fsId = value;
  }
  return result;
}

/**
 * Makes `incoming` (where a transfer writes) from what is there already: a half-written or corrupt
 * `folder` is moved there, so the transfer only mends it. Idempotent: hosts sharing the folder may
 * both run it.
 */
function prepareLines(folder: string, incoming: string): string[] {
  const [f, i] = [quote([folder]), quote([incoming])];
  return [`mkdir -p $(dirname ${i})`, `{ [ ! -d ${f} ] || [ -d ${i} ] || { mv ${f} ${i} && rm -f ${i}/${COMPLETE_MARKER}; }; }`, `mkdir -p ${i}`];
}

/**
 * Checks `incoming` against the sha256 list on stdin and only then gives it its final name, then
 * runs `then` (e.g. switchLines) in the same round trip. A check that fails prints the bad files and
 * exits 4; the previous release is untouched.
 */
export function finishScript(workDir: string, folder: string, incoming: string, then: string[] = []): string {
  const [f, i] = [quote([folder]), quote([incoming])];
  return [
    READ_SUMS,
    `cd ${remoteDirWord(workDir)} || exit 3`,
    `if ! out=$(cd ${i} && printf '%s\\n' "$sums" | sha256sum -c --quiet - 2>&1); then printf '%s\\n' "$out" | head -n 5 >&2; exit 4; fi`,
    `touch ${i}/${COMPLETE_MARKER} && rm -rf ${f} && mv ${i} ${f} || exit 3`,
    ...then,
  ].join("\n");
}

/**
 * Points `current` at `folder` atomically (a new link renamed over the old one), marks the release
 * as just used, and removes all but the newest `keep` releases of the same target (never the
 * current one).
 */
export function switchScript(workDir: string, folder: string, target: string, keep: number): string {
  return [`cd ${remoteDirWord(workDir)} || exit 3`, ...switchLines(folder, target, keep)].join("\n");
}

/** switchScript's lines, to run after others already in the work folder. */
export function switchLines(folder: string, target: string, keep: number): string[] {
  const f = quote([folder]);
  const pattern = quote([`"target": "${target}"`]);
  return [
    `touch ${f}/${COMPLETE_MARKER}`,
    `if [ "$(readlink current 2>/dev/null)" != ${f} ]; then ln -sfn ${f} .current-$$ && mv -T .current-$$ current; fi`,
    `n=0; for m in $(ls -1t releases/*/${COMPLETE_MARKER} 2>/dev/null); do d=\${m%/${COMPLETE_MARKER}}; grep -q ${pattern} "$d/manifest.json" 2>/dev/null || continue; n=$((n+1)); if [ $n -gt ${keep} ] && [ "$d" != ${f} ]; then rm -rf "$d"; fi; done`,
    `exit 0`,
  ];
}
