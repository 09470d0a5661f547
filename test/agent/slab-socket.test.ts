// The slabs reads land in: each read gets the free end of the current slab (at least 64 KiB of room),
// what a read filled is never handed out again, and a slab with too little room left is replaced.
import { expect } from "chai";
import { Slab } from "../../remote-agent/slab-socket.ts";

describe("agent: read slabs", () => {
  it("reads fill a slab one after the other; filled bytes are never handed out again", () => {
    const slab = new Slab();
    const first = slab.next();
    expect(first.length).to.equal(1024 * 1024);
    first.fill(1, 0, 1000);
    slab.filled(1000);
    const second = slab.next();
    expect(second.buffer, "the same slab").to.equal(first.buffer);
    expect(second.byteOffset).to.equal(first.byteOffset + 1000);
    second.fill(2);
    expect(first.subarray(0, 1000).every((byte) => byte === 1), "the first read's bytes are untouched").to.equal(true);
  });

  it("a slab with less than 64 KiB of room left is replaced by a fresh one", () => {
    const slab = new Slab();
    const first = slab.next();
    slab.filled(1024 * 1024 - 64 * 1024);
    expect(slab.next().buffer, "exactly 64 KiB left: still this slab").to.equal(first.buffer);
    slab.filled(1);
    const next = slab.next();
    expect(next.buffer).not.to.equal(first.buffer);
    expect(next.length).to.equal(1024 * 1024);
  });
});
