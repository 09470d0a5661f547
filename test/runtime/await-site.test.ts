// A failed op's error ends with the line in main that awaited it, as Node's async stack traces
// show it, and no frame of mnt's master. Runs the real `mnt exec` (run `npm run build` first).
import path from "node:path";
import { expect } from "chai";
import { escapeRegExp, fixtureBlocks, fixturesDir, lineOf } from "../cli/support.ts";

const FIXTURE = "await-site.ts";

const awaitedAt = (marker: string) => new RegExp(`^    at async (Object\\.)?main \\(${escapeRegExp(path.join(fixturesDir, FIXTURE))}:${lineOf(FIXTURE, marker)}:\\d+\\)$`);

describe("runtime: where main awaited a failed op", function () {
  this.timeout(60_000);
  let found: Map<string, string[]>;

  before(async () => {
    found = await fixtureBlocks(FIXTURE, ["direct", "all"]);
  });

  it("awaited directly: the last line is main's await, after the op's own frames", () => {
    const lines = found.get("direct")!;
    expect(lines[0]).to.equal("Error: await-site fixture: 3");
    expect(lines.at(-1), lines.join("\n")).to.match(awaitedAt("DIRECT_LINE"));
    expect(lines.join("\n")).not.to.match(/core\/runtime|dist\/|node:internal/);
  });

  it("through Promise.all: names the element, then main's await", () => {
    const lines = found.get("all")!;
    expect(lines[0]).to.equal("Error: await-site fixture: 5");
    expect(lines.at(-2), lines.join("\n")).to.equal("    at async Promise.all (index 2)");
    expect(lines.at(-1), lines.join("\n")).to.match(awaitedAt("ALL_LINE"));
  });
});
