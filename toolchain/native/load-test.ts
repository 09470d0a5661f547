// Loads every addon of a release folder under the target's own Node.js (through qemu-user for
// another architecture), the way a program will: by requiring each package by name from the
// release's node_modules, so its loader (node-gyp-build, bindings, node-pre-gyp, napi-rs) picks the
// file. `process.dlopen` is watched, because some packages swallow a failed load and fall back to
// JavaScript (bufferutil does), and a require that succeeds proves nothing then.
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { checkTarget } from "../doctor.ts";
import type { Target } from "../targets.ts";
import { officialNode } from "./official-node.ts";
import type { AddonRecord } from "./records.ts";
import { run } from "./run.ts";

export type LoadResult =
  | { status: "loaded" }
  /** The first line of the error the load threw. */
  | { status: "failed"; error: string }
  /** Why this machine could not try (no emulator, no Node.js for the target, the loader took a sibling file). */
  | { status: "not-load-tested"; reason: string };

export interface LoadTestOptions {
  /** The release folder: `node_modules/` is in it. */
  dir: string;
  target: Target;
  addons: readonly Pick<AddonRecord, "path" | "loadVia">[];
  /** Where the target's official Node.js is cached (default `${MNT_CACHE_DIR ?? ~/.cache/mnt}`). */
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
  const everyone = (result: LoadResult) => {
    for (const addon of options.addons) results.set(addon.path, result);
    return results;
  };

  const runner = await nodeRunner(options);
  if ("reason" in runner) return everyone({ status: "not-load-tested", reason: runner.reason });

  const packages = [...new Set(options.addons.map((addon) => addon.loadVia))];
  const { events, crashes } = await probePackages(runner, packages, options);
  const releaseDir = realpathSync(options.dir);
  for (const addon of options.addons) results.set(addon.path, judge(addon, events, releaseDir, crashes.get(addon.loadVia) ?? null));
  return results;
}

/**
 * Requires each package in one run of the target's Node.js (emulated start-up costs seconds). A
 * package that kills the process (a segfault in its addon's initialiser) is charged with the crash,
 * and the packages after it get a fresh process.
 */
async function probePackages(runner: { command: string; args: string[] }, packages: string[], options: LoadTestOptions) {
  const events: ProbeEvent[] = [];
  const crashes = new Map<string, string>();
  let remaining = packages;
  while (remaining.length > 0) {
    const probe = await run(runner.command, [...runner.args, "-e", PROBE], {
      cwd: options.dir,
      env: { ...(options.env ?? process.env), MNT_LOAD_TEST_PACKAGES: JSON.stringify(remaining) },
      timeoutMs: options.timeoutMs ?? 180_000,
      echoStdout: false,
      onLine: options.onLog,
    });
    const seen = probe.stdout
      .split("\n")
      .filter((line) => line.startsWith(MARK))
      .map((line) => JSON.parse(line.slice(MARK.length)) as ProbeEvent);
    events.push(...seen);
    const finished = new Set(seen.flatMap((event) => ("require" in event ? [event.require] : [])));
    const culprit = remaining.find((name) => !finished.has(name));
    if (culprit === undefined) break;
    const how = probe.timedOut ? "timed out" : `exited with ${probe.signal ?? `code ${probe.code}`}`;
    crashes.set(culprit, `the target's node ${how} while loading it: ${probe.tail.filter(Boolean).at(-1) ?? ""}`);
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
  for (const name of JSON.parse(process.env.MNT_LOAD_TEST_PACKAGES)) {
    try {
      try {
        require(name);
      } catch (error) {
        if (error && error.code === "ERR_REQUIRE_ESM") await import(name);
        else throw error;
      }
      say({ require: name, ok: true });
    } catch (error) {
      say({ require: name, ok: false, error: firstLine(error) });
    }
  }
})();
`;

function judge(addon: Pick<AddonRecord, "path" | "loadVia">, events: ProbeEvent[], releaseDir: string, crash: string | null): LoadResult {
  const file = path.join(releaseDir, addon.path);
  const opened = events.filter((event): event is Extract<ProbeEvent, { dlopen: string }> => "dlopen" in event);
  const own = opened.filter((event) => samePath(event.dlopen, file));
  if (own.some((event) => event.ok)) return { status: "loaded" };
  const failure = own.find((event) => !event.ok);
  if (failure && !failure.ok) return { status: "failed", error: failure.error };

  if (crash) return { status: "failed", error: crash };
  const required = events.find((event): event is Extract<ProbeEvent, { require: string }> => "require" in event && event.require === addon.loadVia);
  if (!required) return { status: "failed", error: `require('${addon.loadVia}') did not finish` };
  if (!required.ok) return { status: "failed", error: `require('${addon.loadVia}'): ${required.error}` };
  const packageDir = path.join(releaseDir, "node_modules", addon.loadVia);
  const sibling = opened.find((event) => event.ok && (event.dlopen.startsWith(`${packageDir}/`) || samePath(path.dirname(event.dlopen), path.dirname(file))));
  if (sibling) return { status: "not-load-tested", reason: `require('${addon.loadVia}') loads ${path.relative(releaseDir, sibling.dlopen)} instead` };
  return { status: "failed", error: `require('${addon.loadVia}') succeeded without loading it (did the package fall back to JavaScript?)` };
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
