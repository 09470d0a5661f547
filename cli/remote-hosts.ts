// `mnt exec --hosts hosts.yaml`: checks every host at once, says up front which cannot be used and
// why, and turns the usable ones into agent specs whose first connection is the check's own.
import path from "node:path";
import { checkHosts } from "../core/connections/ssh/check-hosts.ts";
import { sshAgentConnector } from "../core/connections/ssh/agent-over-ssh.ts";
import { loadInventory } from "../core/hosts/inventory.ts";
import { MntError } from "../core/errors.ts";
import type { AgentSpec } from "../core/runtime/runtime.ts";
import type { ProgramBundle } from "../toolchain/bundle-program.ts";
import { agentBuildHash, agentBundle } from "../toolchain/own-files.ts";
import { terminalPassphrasePrompt } from "./passphrase.ts";
import type { Reporter } from "./report.ts";

export interface RemoteAgents {
  agents: AgentSpec[];
  /** Slaves the usable hosts will run (their slots, `auto` counted as their cores). */
  slaves: number;
}

export async function remoteAgents(file: string, bundle: ProgramBundle, requireAll: boolean, reporter: Reporter): Promise<RemoteAgents> {
  const inventory = loadInventory(file);
  const checks = await checkHosts(inventory.hosts, {
    keepOpen: true,
    askPassphrase: terminalPassphrasePrompt(),
    onHostKeyRecorded: (line) => reporter.note(`recorded a new host key: ${line}`),
  });
  const failed = checks.filter((check) => !check.usable);
  const usable = checks.filter((check) => check.usable);
  // A single host that fails is the run's one error; with several, each is named up front.
  if (checks.length === 1 && failed.length === 1) throw failed[0]!.error!;
  for (const check of failed) process.stderr.write(`mnt: ${check.error!.message}\n`);
  if (failed.length > 0 && (requireAll || usable.length === 0)) {
    for (const check of usable) check.session?.close();
    const refused = failed.every((check) => check.error!.code === "auth");
    const why = requireAll ? "--require-all: not every host is usable" : "no host in the inventory is usable";
    throw new MntError(refused ? "auth" : "infrastructure", `${inventory.file}: ${why} (${failed.length} of ${checks.length} failed, see above)`, "fix them, or run `mnt hosts check` for details");
  }
  // A host that could not be reached at all may come up later: it keeps being tried, and joins the
  // run when it answers (set aside after repeated failures). One that answered wrongly (a refused
  // key or login, an old Node.js) will not heal by itself.
  const later = failed.filter((check) => check.facts === null && check.error!.code === "infrastructure");
  if (failed.length > 0) {
    const joining = later.length > 0 ? `; ${later.map((check) => check.host.name).join(", ")} will join if ${later.length === 1 ? "it comes" : "they come"} up` : "";
    reporter.note(`running on ${usable.length} of ${checks.length} hosts${joining}`);
  }
  const agent = { local: agentBundle, remote: `agent/agent-${agentBuildHash()}.cjs` };
  const program = { local: bundle.file, remote: `programs/${path.basename(bundle.file)}` };
  const agents = [...usable, ...later].map((check): AgentSpec => {
    const { host } = check;
    return {
      host: host.name,
      slots: host.slots,
      // Relative to the work folder, where the agent runs.
      programPath: program.remote,
      connect: sshAgentConnector({
        address: host.address,
        ssh: check.sshOptions,
        workDir: host.workDir,
        node: host.node,
        agent,
        program,
        firstSession: check.session ?? undefined,
        onStderrLine: (line) => reporter.event({ kind: "log", host: host.name, slot: null, stream: "stderr", line }),
      }),
    };
  });
  const slaves = usable.reduce((sum, check) => sum + (check.host.slots === "auto" ? (check.facts?.cores ?? 0) : check.host.slots), 0);
  return { agents, slaves };
}
