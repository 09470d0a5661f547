// Fills the lab's cache of official Node.js builds for emulated hosts ahead of the tests (in CI,
// while the registry is reachable): `node --import tsx test/lab/prefetch.ts [arm64] [armv7l] [s390x]`
// (no argument: every arch). Prints each cached bin/node; a second run downloads nothing.
import { EMULATIONS, isEmulatedArch } from "./emulation.ts";
import { foreignNode } from "./foreign-node.ts";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((arch) => !isEmulatedArch(arch));
if (unknown.length > 0) {
  console.error(`prefetch: ${unknown.join(", ")}: not an arch the lab emulates (${Object.keys(EMULATIONS).join(", ")})`);
  process.exit(64);
}
const arches = wanted.length > 0 ? wanted.filter(isEmulatedArch) : Object.values(EMULATIONS).map((e) => e.arch);
for (const arch of arches) console.log(await foreignNode(EMULATIONS[arch]));
