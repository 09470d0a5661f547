// Paths on this machine as users write them in config files.
import os from "node:os";
import path from "node:path";

/** `~` and `~/…` are the user's home on this machine; other paths are returned as they are. */
export function expandHome(file: string): string {
  if (file === "~") return os.homedir();
  if (file.startsWith("~/")) return path.join(os.homedir(), file.slice(2));
  return file;
}
