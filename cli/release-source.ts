// Where `mnt deploy` and `mnt exec --hosts` get each target's release: built on demand from the
// program (cached, one target at a time: builds are CPU-bound), or read from a build folder.
import path from "node:path";
import { MntError } from "../core/errors.ts";
import { renderBuildEvent } from "./build-report.ts";
import { readRelease, type Release } from "../toolchain/build/release-folder.ts";
import type { Target } from "../toolchain/targets.ts";

export interface ReleaseSourceOptions {
  /** Build this program; without one, releases are read from outDir. */
  program?: string;
  outDir: string;
  note: (line: string) => void;
  /** Narrate every build step (mnt deploy); otherwise only native builds, which take a while (mnt exec). */
  verbose: boolean;
}

export function releaseSource(options: ReleaseSourceOptions): (target: Target) => Promise<Release> {
  const releases = new Map<string, Promise<Release>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (target) => {
    let release = releases.get(target.name);
    if (!release) {
      release = options.program ? buildOne(options.program, target) : Promise.resolve(readBuilt(target));
      releases.set(target.name, release);
    }
    return release;
  };

  function buildOne(program: string, target: Target): Promise<Release> {
    const built = queue.then(async () => {
      // Loaded only when something is built: esbuild is not needed to send releases already made.
      const { buildProgram } = await import("../toolchain/build/build.ts");
      const result = await buildProgram({
        program,
        targets: [target],
        outDir: options.outDir,
        onEvent: (event) => {
          const worthSaying = options.verbose || event.kind === "target.log" || (event.kind === "target.done" && !event.built.nativesCached);
          if (worthSaying) renderBuildEvent(event, options.note);
        },
      });
      const failure = result.failed[0];
      if (failure) throw failure.error;
      return readRelease(result.targets[0]!.dir)!;
    });
    queue = built.catch(() => {});
    return built;
  }

  function readBuilt(target: Target): Release {
    const release = readRelease(path.join(options.outDir, target.name));
    if (!release) throw new MntError("infrastructure", `no ${target.name} release under ${options.outDir}`, `run: mnt build <program> --arch ${target.arch}${options.outDir === ".mnt/build" ? "" : ` --out ${options.outDir}`}`);
    return release;
  }
}
