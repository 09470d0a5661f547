// Shared data at the master: each set is a new immutable version with its own epoch; equal
// content is stored once; a version is freed only when no queued or running op can read it (an
// op reads, per key, the newest version at or before its epoch), and its bytes when no version
// refers to them any more.
import { expect } from "chai";
import { createHash } from "node:crypto";
import { decode, encode } from "../../core/protocol/codec.ts";
import { SharedStore } from "../../core/runtime/shared-store.ts";

const sha = (value: unknown) => createHash("sha256").update(encode(value)).digest("hex");
const live = (store: SharedStore) => store.liveVersions().map((v) => `${v.key}@${v.epoch}`);

describe("shared store", () => {
  it("each set is a new version: epochs count up across keys, with the content's hash and size", () => {
    const store = new SharedStore();
    expect(store.epoch).to.equal(0);
    const a = store.set("lut", [1, 2, 3]);
    const b = store.set("scene", { name: "box" });
    expect(a).to.deep.equal({ key: "lut", epoch: 1, hash: sha([1, 2, 3]), size: encode([1, 2, 3]).length });
    expect(b.epoch).to.equal(2);
    expect(store.epoch).to.equal(2);
    expect(store.versionsCreated).to.equal(2);
    expect(decode(store.blob(a.hash)!)).to.deep.equal([1, 2, 3]);
    expect(store.blob("0".repeat(64))).to.equal(undefined);
  });

  it("the value is taken at set: changing it afterwards changes nothing stored", () => {
    const store = new SharedStore();
    const value = { gain: 1 };
    const version = store.set("params", value);
    value.gain = 2;
    expect(decode(store.blob(version.hash)!)).to.deep.equal({ gain: 1 });
  });

  it("equal content is stored once, whatever its key; its bytes go when the last version holding them does", () => {
    const store = new SharedStore();
    const one = store.set("a", "same bytes");
    const two = store.set("b", "same bytes");
    expect(one.hash).to.equal(two.hash);
    expect(store.liveBytes).to.equal(encode("same bytes").length);
    // Superseding "a" frees its version, but "b" still holds the bytes.
    store.set("a", "other");
    const freed = store.collect();
    expect(freed).to.deep.equal({ versions: [{ key: "a", epoch: 1 }], hashes: [] });
    expect(store.blob(one.hash)).to.not.equal(undefined);
    store.set("b", "other too");
    expect(store.collect()).to.deep.equal({ versions: [{ key: "b", epoch: 2 }], hashes: [one.hash] });
    expect(store.blob(one.hash)).to.equal(undefined);
  });

  it("the newest version of a key is never freed", () => {
    const store = new SharedStore();
    store.set("lut", 1);
    expect(store.collect()).to.equal(null);
    expect(live(store)).to.deep.equal(["lut@1"]);
  });

  it("a superseded version stays while an op issued in its time is outstanding, and goes at its release", () => {
    const store = new SharedStore();
    store.set("lut", "v1"); // epoch 1
    const reader = store.retain(); // an op issued now reads v1
    expect(reader).to.equal(1);
    store.set("lut", "v2"); // epoch 2
    expect(store.collect(), "the op may still read v1").to.equal(null);
    expect(live(store)).to.deep.equal(["lut@1", "lut@2"]);
    const freed = store.release(reader);
    expect(freed!.versions).to.deep.equal([{ key: "lut", epoch: 1 }]);
    expect(freed!.hashes).to.deep.equal([sha("v1")]);
    expect(live(store)).to.deep.equal(["lut@2"]);
    expect(store.liveVersionCount).to.equal(1);
  });

  it("an op reads the newest version at or before its epoch: ops issued before a key was first set, or after a newer version, do not hold an old one", () => {
    const store = new SharedStore();
    const early = store.retain(); // epoch 0: before any version
    store.set("lut", "v1"); // epoch 1
    store.set("other", "x"); // epoch 2: lut@1 is still the newest lut
    const middle = store.retain(); // epoch 2 reads lut@1
    store.set("lut", "v2"); // epoch 3
    const late = store.retain(); // epoch 3 reads lut@2
    expect(store.collect()).to.equal(null);
    expect(store.release(early), "it could not read lut@1").to.equal(null);
    expect(store.release(late)).to.equal(null);
    expect(live(store)).to.deep.equal(["lut@1", "lut@3", "other@2"]);
    expect(store.release(middle)!.versions).to.deep.equal([{ key: "lut", epoch: 1 }]);
  });

  it("counts ops per epoch: a version stays until the last op of its time is released", () => {
    const store = new SharedStore();
    store.set("k", 1);
    const a = store.retain();
    const b = store.retain();
    store.set("k", 2);
    expect(store.release(a)).to.equal(null);
    expect(live(store)).to.deep.equal(["k@1", "k@2"]);
    expect(store.release(b)!.versions).to.deep.equal([{ key: "k", epoch: 1 }]);
  });

  it("frees every unreadable version between readable ones, and keeps each one some op can read", () => {
    const store = new SharedStore();
    const held: number[] = [];
    for (let i = 1; i <= 6; i++) {
      store.set("k", i); // epoch i
      if (i === 2 || i === 5) held.push(store.retain());
    }
    const freed = store.collect()!;
    expect(freed.versions.map((v) => v.epoch)).to.deep.equal([1, 3, 4]);
    expect(freed.hashes).to.have.length(3);
    expect(live(store)).to.deep.equal(["k@2", "k@5", "k@6"]);
    for (const epoch of held) store.release(epoch);
    expect(live(store)).to.deep.equal(["k@6"]);
    expect(store.liveBytes).to.equal(encode(6).length);
  });
});
