// Which targets a command builds: `--arch all` (every target mnt knows), `--arch hosts` (those the
// inventory's hosts run, probed; the default when a hosts file is given), or a list such as
// `x64,arm64`. This machine's own target always comes along for `mnt exec` (main runs here).
import { checkHosts } from "../core/connections/ssh/check-hosts.ts";
import { MntError } from "../core/errors.ts";
import { loadInventory } from "../core/hosts/inventory.ts";
import { hostTarget, parseTargetList, targetFor, TARGETS, type Target } from "../toolchain/targets.ts";
import { terminalPassphrasePrompt } from "./passphrase.ts";

export async function chooseTargets(arch: string | undefined, hostsFile: string | undefined, note: (line: string) => void): Promise<Target[]> {
  const choice = arch ?? (hostsFile ? "hosts" : hostTarget().name);
  if (choice === "all") return [...TARGETS];
  if (choice !== "hosts") {
    try {
      return parseTargetList(choice);
    } catch (error) {
      throw new MntError("usage", (error as Error).message);
    }
  }
  if (!hostsFile) throw new MntError("usage", "--arch hosts needs --hosts hosts.yaml (the hosts whose targets to build)");
  const inventory = loadInventory(hostsFile);
  const checks = await checkHosts(inventory.hosts, { keepOpen: false, askPassphrase: terminalPassphrasePrompt() });
  const targets = new Set<Target>([hostTarget()]);
  for (const check of checks) {
    if (!check.facts) {
      note(`${check.host.name}: not probed (${check.error?.message ?? "unreachable"}); its target is not built`);
      continue;
    }
    const target = targetFor(check.facts.platform, check.facts.arch);
    if (target) targets.add(target);
    else note(`${check.host.name}: runs ${check.facts.platform}-${check.facts.arch}, which mnt does not build for`);
  }
  return TARGETS.filter((target) => targets.has(target));
}
