// Loads every addon of a release folder under the target's own Node.js (through qemu-user for
// another architecture), the way a program will: by requiring each package by name from the
// release's node_modules, so its loader (node-gyp-build, bindings, node-pre-gyp, napi-rs) picks the
// file. `process.dlopen` is watched, because some packages swallow a failed load and fall back to
// JavaScript (bufferutil does), and a require that succeeds proves nothing then. Files a package
// did not load at require time (it loads lazily) are then required directly.
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { checkTarget } from "../doctor.ts";
import type { Target } from "../targets.ts";
import { officialNode } from "./official-node.ts";
import type { AddonRecord } from "./records.ts";
import { run } from "./run.ts";

export type LoadResult =
  /** Loaded by requiring its package, or — a package that loads its addon lazily — by requiring the file itself. */
  | { status: "loaded"; via: "package" | "file" }
  /** The first line of the error the load threw. */
  | { status: "failed"; error: string }
  /** Why this machine could not try (no emulator, no Node.js for the target, the loader took a sibling file, not a Node.js addon). */
  | { status: "not-load-tested"; reason: string };

export type LoadTestAddon = Pick<AddonRecord, "path" | "loadVia"> & Partial<Pick<AddonRecord, "nodeAddon">>;

export interface LoadTestOptions {
  /** The release folder: `node_modules/` is in it. */
  dir: string;
  target: Target;
  addons: readonly LoadTestAddon[];
  /** Where the target's official Node.js is cached (default: mnt's cache, see own-files.ts). */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  onLog?: (line: string) => void;
  /** Per run of the target's Node.js (default 180 s: emulated start-up takes seconds). */
  timeoutMs?: number;
}

/** Results by addon path (as in the records). */
export async function loadTest(options: LoadTestOptions): Promise<Map<string, LoadResult>> {
  const results = new Map<string, LoadResult>();
  if (options.addons.length === 0) return results;
  const runner = await nodeRunner(options);
  if ("reason" in runner) {
    for (const addon of options.addons) results.set(addon.path, { status: "not-load-tested", reason: runner.reason });
    return results;
  }
  const releaseDir = realpathSync(options.dir);
  const addons = options.addons.filter((addon) => {
    if (addon.nodeAddon !== false) return true;
    results.set(addon.path, { status: "not-load-tested", reason: "not a Node.js addon (no N-API or V8 symbols): its package loads it by other means" });
    return false;
  });

  // First as a program will: require each package by name.
  const byPackage = await probe(runner, [...new Set(addons.map((addon) => addon.loadVia))], options);
  const lazy: LoadTestAddon[] = [];
  for (const addon of addons) {
    const result = judgeByPackage(addon, byPackage, releaseDir);
    if (result) results.set(addon.path, result);
    else lazy.push(addon);
  }
  // Then the files a package did not load at require time (better-sqlite3 waits for `new Database()`).
  if (lazy.length > 0) {
    const files = lazy.map((addon) => path.join(releaseDir, addon.path));
    const byFile = await probe(runner, files, options);
    for (const [i, addon] of lazy.entries()) results.set(addon.path, judgeByFile(files[i]!, byFile));
  }
  return results;
}

interface Probed {
  events: ProbeEvent[];
  /** Why the process died, by the request it was on. */
  crashes: Map<string, string>;
}

/**
 * Requires each request (a package name or a file) in one run of the target's Node.js (emulated
 * start-up costs seconds). A request that kills the process (a segfault in an addon's initialiser)
 * is charged with the crash, and the requests after it get a fresh process.
 */
async function probe(runner: { command: string; args: string[] }, requests: string[], options: LoadTestOptions): Promise<Probed> {
  const events: ProbeEvent[] = [];
  const crashes = new Map<string, string>();
  let remaining = requests;
  while (remaining.length > 0) {
    const probed = await run(runner.command, [...runner.args, "-e", PROBE], {
      cwd: options.dir,
      env: { ...(options.env ?? process.env), MNT_LOAD_TEST_REQUESTS: JSON.stringify(remaining) },
      timeoutMs: options.timeoutMs ?? 180_000,
      echoStdout: false,
      onLine: options.onLog,
    });
    const seen = probed.stdout
      .split("\n")
      .filter((line) => line.startsWith(MARK))
      .map((line) => JSON.parse(line.slice(MARK.length)) as ProbeEvent);
    events.push(...seen);
    const finished = new Set(seen.flatMap((event) => ("require" in event ? [event.require] : [])));
    const culprit = remaining.find((request) => !finished.has(request));
    if (culprit === undefined) break;
    const how = probed.timedOut ? "timed out" : `exited with ${probed.signal ?? `code ${probed.code}`}`;
    crashes.set(culprit, `the target's node ${how} while loading it: ${probed.tail.filter(Boolean).at(-1) ?? ""}`);
    remaining = remaining.slice(remaining.indexOf(culprit) + 1);
  }
  return { events, crashes };
}

/** What the manifest says: `true`, or why not (`failed: …`, `not load-tested: …`). */
export function loadTested(result: LoadResult): true | string {
  switch (result.status) {
    case "loaded":
      return true;
    case "failed":
      return `failed: ${result.error}`;
    case "not-load-tested":
      return `not load-tested: ${result.reason}`;
    default:
      return result satisfies never;
  }
}

type ProbeEvent =
  | { dlopen: string; ok: true }
  | { dlopen: string; ok: false; error: string }
  | { require: string; ok: true }
  | { require: string; ok: false; error: string };

const MARK = "@@mnt-load-test ";

// Runs in the target's Node.js (any version from 18 on), from the release folder.
const PROBE = `
const MARK = ${JSON.stringify(MARK)};
const say = (event) => process.stdout.write(MARK + JSON.stringify(event) + "\\n");
const firstLine = (error) => String((error && error.message) || error).split("\\n")[0];
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  try {
    const result = dlopen.call(this, module, filename, ...rest);
    say({ dlopen: filename, ok: true });
    return result;
  } catch (error) {
    say({ dlopen: filename, ok: false, error: firstLine(error) });
    throw error;
  }
};
(async () => {
  for (const request of JSON.parse(process.env.MNT_LOAD_TEST_REQUESTS)) {
    try {
      try {
        require(request);
      } catch (error) {
        if (error && error.code === "ERR_REQUIRE_ESM") await import(request);
        else throw error;
      }
      say({ require: request, ok: true });
    } catch (error) {
      say({ require: request, ok: false, error: firstLine(error) });
    }
  }
})();
`;

type DlopenEvent = Extract<ProbeEvent, { dlopen: string }>;
type RequireEvent = Extract<ProbeEvent, { require: string }>;

/** The verdict from requiring the package; null when the package loaded neither this file nor a sibling. */
function judgeByPackage(addon: LoadTestAddon, { events, crashes }: Probed, releaseDir: string): LoadResult | null {
  const file = path.join(releaseDir, addon.path);
  const opened = events.filter((event): event is DlopenEvent => "dlopen" in event);
  const own = opened.filter((event) => samePath(event.dlopen, file));
  if (own.some((event) => event.ok)) return { status: "loaded", via: "package" };
  // A failed load the package swallowed (falling back to JavaScript) is still a failure.
  const failure = own.find((event) => !event.ok);
  if (failure && !failure.ok) return { status: "failed", error: failure.error };
  const crash = crashes.get(addon.loadVia);
  if (crash) return { status: "failed", error: crash };
  const required = events.find((event): event is RequireEvent => "require" in event && event.require === addon.loadVia);
  if (!required) return { status: "failed", error: `require('${addon.loadVia}') did not finish` };
  if (!required.ok) return { status: "failed", error: `require('${addon.loadVia}'): ${required.error}` };
  const sibling = opened.find((event) => event.ok && samePath(path.dirname(event.dlopen), path.dirname(file)));
  if (sibling) return { status: "not-load-tested", reason: `require('${addon.loadVia}') loads ${path.relative(releaseDir, sibling.dlopen)} instead` };
  return null;
}

function judgeByFile(file: string, { events, crashes }: Probed): LoadResult {
  const crash = crashes.get(file);
  if (crash) return { status: "failed", error: crash };
  const required = events.find((event): event is RequireEvent => "require" in event && event.require === file);
  if (!required) return { status: "failed", error: "its require did not finish" };
  return required.ok ? { status: "loaded", via: "file" } : { status: "failed", error: required.error };
}

function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

type Runner = { command: string; args: string[] } | { reason: string };

/** This machine's node for its own target; qemu with the target's sysroot and official Node.js otherwise. */
async function nodeRunner(options: LoadTestOptions): Promise<Runner> {
  const { target } = options;
  const env = options.env ?? process.env;
  if (!target.qemu || !target.sysroot) {
    return target.arch === process.arch ? { command: process.execPath, args: [] } : { reason: `${target.name} has no emulator in the target table` };
  }
  const missing = checkTarget(target, { path: env.PATH }).loadTest.filter((check) => check.found === null);
  if (missing.length > 0) {
    return { reason: `${missing.map((check) => check.name).join(", ")} missing (apt-get install -y ${[...new Set(missing.map((check) => check.debianPackage))].join(" ")})` };
  }
  let node: string;
  try {
    node = (await officialNode(target, { cacheDir: options.cacheDir, env, onLog: options.onLog })).node;
  } catch (error) {
    return { reason: `no Node.js for ${target.name}: ${(error as Error).message}` };
  }
  if (!existsSync(node)) return { reason: `${node}: no such file` };
  return { command: target.qemu, args: ["-L", target.sysroot, node] };
}
