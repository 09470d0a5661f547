// The `[mnt] …` lines of a build: a tool's line is shown once with its target, and blank lines not at all.
import { expect } from "chai";
import { renderBuildEvent } from "../../cli/build-report.ts";

describe("build report lines", () => {
  const lines = (line: string) => {
    const out: string[] = [];
    renderBuildEvent({ kind: "target.log", target: "linux-x64", line }, (text) => out.push(text));
    return out;
  };

  it("names the target once, also when the line already starts with it", () => {
    expect(lines("linux-x64: bcrypt need 3 packages")).to.deep.equal(["linux-x64: bcrypt need 3 packages"]);
    expect(lines("gyp info ok")).to.deep.equal(["linux-x64: gyp info ok"]);
  });

  it("drops blank lines of the build tools", () => {
    expect(lines("")).to.deep.equal([]);
    expect(lines("   ")).to.deep.equal([]);
  });
});
