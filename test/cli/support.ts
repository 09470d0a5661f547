// Small helpers shared by the CLI end-to-end tests (not a test file itself).
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { repoRoot, runMnt, type MntRun } from "../helpers/mnt.ts";

export const fixturesDir = path.join(repoRoot, "test", "fixtures");

/** Path of a fixture program, relative to the repository root (the cwd runMnt uses). */
export function fixture(name: string): string {
  return path.join("test", "fixtures", name);
}

/** 1-based line of the fixture line carrying `marker` (so tests survive edits to the fixtures). */
export function lineOf(name: string, marker: string): number {
  const lines = readFileSync(path.join(fixturesDir, name), "utf8").split("\n");
  const at = lines.findIndex((line) => line.includes(marker));
  if (at < 0) throw new Error(`${name}: no line with ${marker}`);
  return at + 1;
}

export function nonEmptyLines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/** Shows the whole run when an assertion about it fails. */
export function describeRun(run: MntRun): string {
  return `exit ${run.code} (signal ${run.signal})\n--- stdout ---\n${run.stdout.slice(0, 4000)}\n--- stderr ---\n${run.stderr.slice(0, 4000)}`;
}

/**
 * mnt's own errors: one line on stderr, `mnt: …`, with no stack dump, and nothing on stdout.
 * Returns that line.
 */
export function expectOneLineMntError(run: MntRun, exitCode: number): string {
  expect(run.code, describeRun(run)).to.equal(exitCode);
  const lines = nonEmptyLines(run.stderr);
  expect(lines, describeRun(run)).to.have.length(1);
  expect(lines[0]).to.match(/^mnt: \S/);
  expect(run.stderr).not.to.match(/^\s+at /m);
  expect(run.stdout).to.equal("");
  return lines[0]!;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The named blocks a fixture printed: `--- name`, lines, `--- end` (stacks, by name). */
export function printedBlocks(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [, name, body] of stdout.matchAll(/^--- (\w+)\n([\s\S]*?)\n--- end$/gm)) out.set(name!, body!.split("\n"));
  return out;
}

/** Runs a fixture with `mnt exec --slots 1 -q`, expects exit 0 and exactly the blocks `names`, in order. */
export async function fixtureBlocks(name: string, names: string[]): Promise<Map<string, string[]>> {
  const run = await runMnt(["exec", fixture(name), "--slots", "1", "-q"]);
  const shown = describeRun(run);
  expect(run.code, shown).to.equal(0);
  const found = printedBlocks(run.stdout);
  expect([...found.keys()], shown).to.deep.equal(names);
  return found;
}
