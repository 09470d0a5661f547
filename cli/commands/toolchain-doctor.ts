// `mnt toolchain doctor [--arch …] [--json]`: per target, what this machine has and lacks to build
// native addons (cross compilers, make, Python, Node.js headers) and to load-test them (qemu, the
// target's runtime libraries), and the one apt-get line for everything missing. Exit 0 when
// nothing is missing.
import type { DoctorArgs } from "./toolchain-doctor-flags.ts";
import { MntError } from "../../core/errors.ts";
import { doctor, type Check } from "../../toolchain/doctor.ts";
import { parseTargetList, TARGETS } from "../../toolchain/targets.ts";
import { ExitCode } from "../exit-codes.ts";

export function doctorCommand(args: DoctorArgs): number {
  let targets;
  try {
    targets = args.arch === "all" ? [...TARGETS] : parseTargetList(args.arch);
  } catch (error) {
    throw new MntError("usage", (error as Error).message);
  }
  const report = doctor(targets);
  if (args.json) {
    const targetJson = report.targets.map((t) => ({ target: t.target.name, canBuild: t.canBuild, canLoadTest: t.canLoadTest, checks: [...t.build, ...t.loadTest].map(checkJson) }));
    process.stdout.write(JSON.stringify({ ok: report.aptGetLine === null, targets: targetJson, missingPackages: report.missingPackages, aptGetLine: report.aptGetLine }) + "\n");
  } else {
    const lines: string[] = [];
    for (const t of report.targets) {
      const missing = [...t.build, ...t.loadTest].filter((check) => check.found === null);
      const loadTest = t.target.qemu === null ? "load-tests natively" : t.canLoadTest ? "load-tests under qemu" : t.target.nodePackage === null ? "cannot load-test (no official Node.js for it on npm)" : "cannot load-test";
      const verdict = `${t.canBuild ? "builds addons" : "CANNOT build addons from source"}, ${loadTest}`;
      lines.push(`${t.target.name.padEnd(14)} ${verdict}${missing.length ? `; missing: ${missing.map((check) => `${check.name} (${check.debianPackage})`).join(", ")}` : ""}`);
    }
    lines.push(report.aptGetLine ? `to install what is missing, as root: ${report.aptGetLine}` : "nothing is missing");
    process.stdout.write(lines.join("\n") + "\n");
  }
  return report.aptGetLine === null ? ExitCode.ok : ExitCode.unavailable;
}

function checkJson(check: Check) {
  return { kind: check.kind, name: check.name, found: check.found, package: check.debianPackage };
}
