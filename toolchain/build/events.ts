// What a build reports as it goes: typed events, rendered by cli/ (plain lines, JSON), like the
// runtime's RuntimeEvent. The build itself never prints.
import type { ManifestAddon } from "../../core/protocol/manifest.ts";
import type { TargetName } from "../targets.ts";

export interface TargetBuilt {
  target: TargetName;
  /** The release folder. */
  dir: string;
  releaseId: string;
  /** Nothing had changed: the folder was left as it was. */
  upToDate: boolean;
  /** The native packages came from the cache of an earlier build with the same inputs. */
  nativesCached: boolean;
  files: number;
  bytes: number;
  addons: ManifestAddon[];
  ms: number;
}

export type BuildEvent =
  | { kind: "bundled"; program: string; id: string; externals: string[]; ms: number }
  | { kind: "target.start"; target: TargetName }
  | { kind: "target.log"; target: TargetName; line: string }
  | { kind: "target.done"; built: TargetBuilt }
  /** One line naming the target, what failed and the fix; the other targets are still built. */
  | { kind: "target.failed"; target: TargetName; error: string };
