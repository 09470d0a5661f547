// What a user reads when an op throws: the stack shows the program's own frames, mapped to its .ts
// lines, and none of mnt's (the slave's op runner, its frame channel, node:events that delivered
// the frame). Runs the real `mnt exec` (run `npm run build` first).
import path from "node:path";
import { expect } from "chai";
import { escapeRegExp, fixtureBlocks, fixturesDir, lineOf } from "../cli/support.ts";

const FIXTURE = "op-stack.ts";
/** Frames that are mnt's, never the program's. */
const MNT_FRAME = /remote-agent\/|core\/protocol\/|agent\.cjs|op-runner|slave\.ts|channel\.ts|frame\.ts|node:events|node:internal/;

const at = (marker: string) => new RegExp(`^\\s+at .*${escapeRegExp(path.join(fixturesDir, FIXTURE))}:${lineOf(FIXTURE, marker)}:\\d+\\)?$`);

describe("agent: the stack of an error thrown by an op", function () {
  this.timeout(60_000);
  let found: Map<string, string[]>;

  before(async () => {
    found = await fixtureBlocks(FIXTURE, ["explode", "later", "json", "context"]);
  });

  const cases: Array<[string, string, string[]]> = [
    ["a worker op that throws two calls deep", "explode", ["PARSE_LINE", "CHECK_LINE", "EXPLODE_LINE"]],
    ["an async worker op that throws after an await", "later", ["PARSE_LINE", "CHECK_LINE", "LATER_LINE"]],
    ["a context op that throws", "context", ["PARSE_LINE", "CHECK_LINE", "CONTEXT_LINE"]],
  ];
  for (const [what, name, markers] of cases) {
    it(`${what}: the program's frames in order, named as the program names them, nothing of mnt's`, () => {
      const [header, ...frames] = found.get(name)!;
      expect(header).to.match(/^RangeError: op-stack fixture: \d+ is too big$/);
      markers.forEach((marker, i) => expect(frames[i], `${name}: frame ${i}\n${found.get(name)!.join("\n")}`).to.match(at(marker)));
      expect(frames[2], "the op's own name, not Array.<name> (the runner's table)").to.match(new RegExp(`^\\s+at ${name === "context" ? "strict" : name} `));
      for (const frame of frames) expect(frame, `${name}\n${found.get(name)!.join("\n")}`).not.to.match(MNT_FRAME);
    });
  }

  it("an error thrown inside a built-in the op called keeps that frame above the program's", () => {
    const [header, first, second, ...rest] = found.get("json")!;
    expect(header).to.match(/^SyntaxError: /);
    expect(first).to.match(/^\s+at JSON\.parse \(<anonymous>\)$/);
    expect(second).to.match(at("JSON_LINE"));
    for (const frame of rest) expect(frame, found.get("json")!.join("\n")).not.to.match(MNT_FRAME);
  });
});
