// Turns build events into `[mnt] …` lines: one per target built or found up to date, with its
// release id, size and each addon's load test; the build tools' own output as it comes.
import type { BuildEvent, TargetBuilt } from "../toolchain/build/events.ts";
import { formatBytes } from "./format.ts";

export function renderBuildEvent(event: BuildEvent, note: (line: string) => void): void {
  switch (event.kind) {
    case "bundled":
      note(`bundled ${event.program} (${event.id}) in ${Math.round(event.ms)} ms${event.externals.length ? `; native packages: ${event.externals.join(", ")}` : ""}`);
      return;
    case "target.start":
      return;
    case "target.log": {
      // Lines of the native install name their target already; a build tool's blank lines say nothing.
      const own = `${event.target}: `;
      const line = event.line.startsWith(own) ? event.line.slice(own.length) : event.line;
      if (line.trim() !== "") note(`${own}${line}`);
      return;
    }
    case "target.done":
      note(describeTarget(event.built));
      return;
    case "target.failed":
      return; // said once, as an error line, when the build ends
    default: {
      const never: never = event;
      return never;
    }
  }
}

function describeTarget(t: TargetBuilt): string {
  const addons = t.addons.length === 0 ? "" : `, ${t.addons.length} addons (${t.addons.map((a) => `${a.package}: ${a.loadTested === true ? "load-tested" : `not load-tested: ${a.loadTested}`}`).join("; ")})`;
  const what = t.upToDate ? "up to date" : `built${t.nativesCached ? "" : " (native packages built)"}`;
  return `${t.target}: release ${t.releaseId} ${what}: ${t.files} files, ${formatBytes(t.bytes)}${addons} in ${(t.ms / 1000).toFixed(2)} s → ${t.dir}`;
}
