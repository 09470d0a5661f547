// planPush: what an SFTP push does, from the two listings alone.
import { expect } from "chai";
import { planPush, type LocalFile } from "../../toolchain/deploy/push-plan.ts";
import type { RemoteEntry } from "../../toolchain/deploy/remote-tree.ts";

const file = (path: string, size = 10, mtime = 1000, mode = 0o644): LocalFile => ({ path, size, mtime, mode });
const there = (entries: Record<string, Partial<RemoteEntry> & Pick<RemoteEntry, "kind">>): Map<string, RemoteEntry> =>
  new Map(Object.entries(entries).map(([path, entry]) => [path, { size: 10, mtime: 1000, mode: entry.kind === "dir" ? 0o755 : 0o644, ...entry }]));

describe("planPush", () => {
  it("an empty folder: every folder made (parents first) and every file sent", () => {
    const plan = planPush([file("a/b/c.txt"), file("a/d.txt"), file("top")], new Map());
    expect(plan.mkdir).to.deep.equal(["a", "a/b"]);
    expect(plan.send.map((f) => f.path)).to.deep.equal(["a/b/c.txt", "a/d.txt", "top"]);
    expect(plan.remove).to.deep.equal([]);
  });

  it("the same size, time and mode: nothing to do", () => {
    const plan = planPush([file("a/x")], there({ a: { kind: "dir" }, "a/x": { kind: "file" } }));
    expect(plan).to.deep.equal({ remove: [], mkdir: [], send: [] });
  });

  it("another size, time or mode: sent again (a mode is never changed in place: the file may be a hard link into an older release)", () => {
    const remote = there({ s: { kind: "file", size: 11 }, t: { kind: "file", mtime: 999 }, m: { kind: "file", mode: 0o755 }, same: { kind: "file" } });
    expect(planPush([file("s"), file("t"), file("m"), file("same")], remote).send.map((f) => f.path)).to.deep.equal(["s", "t", "m"]);
  });

  it("what the local list lacks is removed, children before their folder", () => {
    const remote = there({ keep: { kind: "file" }, old: { kind: "dir" }, "old/deep": { kind: "dir" }, "old/deep/f": { kind: "file" }, stray: { kind: "other" } });
    const plan = planPush([file("keep")], remote);
    expect(plan.remove.map((r) => r.path)).to.deep.equal(["old/deep/f", "old/deep", "old", "stray"]);
    expect(plan.send).to.deep.equal([]);
  });

  it("a folder where a file must be, and a file or link where a folder must be: removed, then replaced", () => {
    const remote = there({ x: { kind: "dir" }, "x/inner": { kind: "file" }, d: { kind: "file" }, l: { kind: "other" } });
    const plan = planPush([file("x"), file("d/f"), file("l/g")], remote);
    expect(plan.remove.map((r) => r.path)).to.deep.equal(["x/inner", "x", "d", "l"]);
    expect(plan.mkdir).to.deep.equal(["d", "l"]);
    expect(plan.send.map((f) => f.path)).to.deep.equal(["x", "d/f", "l/g"]);
  });

  it("by content: a file is kept when the host's sha256 matched and its mode is right, whatever its time", () => {
    const remote = there({ ok: { kind: "file", mtime: 1 }, bad: { kind: "file" }, mode: { kind: "file", mode: 0o600 } });
    const plan = planPush([file("ok"), file("bad"), file("mode")], remote, new Set(["ok", "mode"]));
    expect(plan.send.map((f) => f.path)).to.deep.equal(["bad", "mode"]);
  });
});
