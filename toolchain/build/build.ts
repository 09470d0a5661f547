// `mnt build`: the program bundled once (it is JavaScript), then per target a release folder with
// the agent, the program and the native packages built for that target (see docs/TOOLCHAIN.md).
// A target whose inputs have not changed is left as it is, and says so.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { artefactId } from "../../core/protocol/manifest.ts";
import { MntError } from "../../core/errors.ts";
import { agentBundle, cacheDir } from "../own-files.ts";
import type { Target } from "../targets.ts";
import { bundleProgram, type ProgramBundle } from "./bundle-program.ts";
import type { BuildEvent, TargetBuilt } from "./events.ts";
import { readRelease, releaseBytes, writeRelease } from "./release-folder.ts";

export interface BuildRequest {
  program: string;
  targets: Target[];
  /** One folder per target is written under it. */
  outDir: string;
  /** Rebuild the native packages even when cached. */
  force?: boolean;
  onEvent?: (event: BuildEvent) => void;
}

export interface BuildResult {
  bundle: ProgramBundle;
  targets: TargetBuilt[];
  /** Targets that could not be built, each with its one-line error. */
  failed: Array<{ target: string; error: MntError }>;
}

/** What a target's release was made from: equal inputs → the release on disk is current. */
interface BuildStamp {
  program: string;
  agent: string;
  natives: string | null;
  release: string;
}

export async function buildProgram(request: BuildRequest): Promise<BuildResult> {
  const emit = request.onEvent ?? (() => {});
  const outDir = path.resolve(request.outDir);
  const stampDir = path.join(outDir, ".stamps");
  mkdirSync(stampDir, { recursive: true });
  const bundleStarted = performance.now();
  const bundle = await bundleProgram(request.program, path.join(outDir, ".bundles"));
  emit({ kind: "bundled", program: request.program, id: bundle.hash, externals: bundle.externals, ms: performance.now() - bundleStarted });
  const projectDir = projectDirOf(request.program);
  if (bundle.externals.length > 0 && projectDir === null) {
    throw new MntError("program", `${request.program}: imports native packages (${bundle.externals.join(", ")}) but no package.json was found above it`, "run mnt build from the program's npm project");
  }
  const agentId = artefactId(readFileSync(agentBundle));
  const built: TargetBuilt[] = [];
  const failed: BuildResult["failed"] = [];
  for (const target of request.targets) {
    emit({ kind: "target.start", target: target.name });
    try {
      const result = await buildTarget(target);
      emit({ kind: "target.done", built: result });
      built.push(result);
    } catch (error) {
      const reason = error instanceof MntError ? error : new MntError("program", `${target.name}: ${(error as Error).message}`);
      emit({ kind: "target.failed", target: target.name, error: reason.message });
      failed.push({ target: target.name, error: reason });
    }
  }
  return { bundle, targets: built, failed };

  async function buildTarget(target: Target): Promise<TargetBuilt> {
    const started = performance.now();
    const natives =
      bundle.externals.length === 0
        ? null
        : // Loaded only for a program with native packages (npm, node-gyp, qemu load tests …).
          await (await import("./natives.ts")).nativesFor({
            projectDir: projectDir!,
            packages: bundle.externals,
            target,
            cacheDir: cacheDir(),
            force: request.force ?? false,
            onLog: (line) => emit({ kind: "target.log", target: target.name, line }),
          });
    const dir = path.join(outDir, target.name);
    const stampFile = path.join(stampDir, `${target.name}.json`);
    const stamp: Omit<BuildStamp, "release"> = { program: bundle.hash, agent: agentId, natives: natives?.key ?? null };
    const previous = readStamp(stampFile);
    const onDisk = readRelease(dir);
    const upToDate = !request.force && previous !== null && onDisk !== null && onDisk.id === previous.release && sameInputs(previous, stamp);
    const release = upToDate ? onDisk : writeRelease({ target, programFile: bundle.file, agentFile: agentBundle, nativesDir: natives?.dir ?? null, addons: natives?.addons ?? [], dir });
    if (!upToDate) writeFileSync(stampFile, JSON.stringify({ ...stamp, release: release.id }));
    const result: TargetBuilt = {
      target: target.name,
      dir,
      releaseId: release.id,
      upToDate,
      nativesCached: natives?.cached ?? true,
      files: release.manifest.files.length,
      bytes: releaseBytes(release.manifest),
      addons: release.manifest.addons,
      ms: performance.now() - started,
    };
    return result;
  }
}

/** The npm project a program belongs to: the nearest folder above it with a package.json. */
export function projectDirOf(program: string): string | null {
  for (let dir = path.dirname(path.resolve(program)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

function readStamp(file: string): BuildStamp | null {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as BuildStamp;
  } catch {
    return null;
  }
}

function sameInputs(a: Omit<BuildStamp, "release">, b: Omit<BuildStamp, "release">): boolean {
  return a.program === b.program && a.agent === b.agent && a.natives === b.natives;
}
