// Finds a command on a PATH, as the shell would: the first executable file of that name. The PATH
// is a parameter so that the doctor and the tests can look at a PATH other than this process's.
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

export function findExecutable(name: string, searchPath: string | undefined = process.env.PATH): string | null {
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here, or not executable: keep looking
    }
  }
  return null;
}
