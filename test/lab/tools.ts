// The commands the lab runs, resolved to absolute paths once. A missing one is an Error with the
// install command: the lab never skips.
import { accessSync, constants } from "node:fs";
import path from "node:path";

export const INSTALL_COMMAND = "apt-get install -y openssh-server openssh-client rsync iproute2";

/** Command → the Debian package that ships it. sshd is looked up by absolute path (it re-execs itself). */
const TOOLS = {
  "/usr/sbin/sshd": "openssh-server",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
  ip: "iproute2",
  ss: "iproute2",
  rsync: "rsync",
  unshare: "util-linux",
  nsenter: "util-linux",
  mount: "mount",
  mknod: "coreutils",
  sed: "sed",
  sh: "dash",
} as const;

export type ToolName = keyof typeof TOOLS;

/** Packages INSTALL_COMMAND already names; others are essential on Debian, named only if missing. */
const BASE_PACKAGES = new Set(["openssh-server", "openssh-client", "rsync", "iproute2"]);

let resolved: Record<ToolName, string> | null = null;

/** Throws unless every command the lab uses is installed and the process is root. */
export function requireLabTools(): void {
  const found: Partial<Record<ToolName, string>> = {};
  const missing: string[] = [];
  const extraPackages = new Set<string>();
  for (const [name, pkg] of Object.entries(TOOLS) as Array<[ToolName, string]>) {
    const file = locate(name);
    if (file) found[name] = file;
    else {
      missing.push(`${name} (${pkg})`);
      if (!BASE_PACKAGES.has(pkg)) extraPackages.add(pkg);
    }
  }
  if (missing.length > 0) {
    const command = [INSTALL_COMMAND, ...extraPackages].join(" ");
    throw new Error(`the test lab needs commands that are not installed: ${missing.join(", ")}; install them as root with: ${command}`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error("the test lab needs root (network namespaces, sshd host keys, logins as root): run the tests as root");
  }
  resolved = found as Record<ToolName, string>;
}

/** The absolute path of a lab command; checks the tools on first use. */
export function tool(name: ToolName): string {
  if (!resolved) requireLabTools();
  return resolved![name];
}

/** The absolute path of `name` (searched on PATH unless absolute) if it is executable, else null. */
export function locate(name: string): string | null {
  const candidates = path.isAbsolute(name) ? [name] : (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}
