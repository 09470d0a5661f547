import { expect } from "chai";
import { HOST_IS_LITTLE_ENDIAN, WIRE_BYTE_ORDER, copySwapped, swapElementBytes } from "../../core/protocol/byte-order.ts";

const bytes = (...values: number[]) => Uint8Array.from(values);
const counting = (length: number) => Uint8Array.from({ length }, (_, i) => i & 0xff);

describe("byte order", () => {
  it("the wire is little-endian, and this host is found to be what os.endianness() says", async () => {
    const os = await import("node:os");
    expect(WIRE_BYTE_ORDER).to.equal("LE");
    expect(HOST_IS_LITTLE_ENDIAN).to.equal(os.endianness() === "LE");
  });

  describe("swapElementBytes", () => {
    it("reverses each 2-, 4- or 8-byte element in place, and leaves 1-byte elements alone", () => {
      const two = bytes(1, 2, 3, 4);
      swapElementBytes(two, 2);
      expect([...two]).to.deep.equal([2, 1, 4, 3]);
      const four = bytes(1, 2, 3, 4, 5, 6, 7, 8);
      swapElementBytes(four, 4);
      expect([...four]).to.deep.equal([4, 3, 2, 1, 8, 7, 6, 5]);
      const eight = bytes(1, 2, 3, 4, 5, 6, 7, 8);
      swapElementBytes(eight, 8);
      expect([...eight]).to.deep.equal([8, 7, 6, 5, 4, 3, 2, 1]);
      const one = bytes(1, 2, 3);
      swapElementBytes(one, 1);
      expect([...one]).to.deep.equal([1, 2, 3]);
    });

    // Buffer's swaps loop in JavaScript below 128 bytes and call into C++ above: both sides of that line.
    it("short and long runs, on a Uint8Array that is a view at an odd offset, touching nothing around it", () => {
      for (const size of [2, 4, 8]) {
        for (const elements of [1, 3, 15, 16, 17, 1001]) {
          const backing = counting(elements * size + 3);
          const view = backing.subarray(1, 1 + elements * size);
          swapElementBytes(view, size);
          for (let e = 0; e < elements; e++) {
            for (let b = 0; b < size; b++) expect(backing[1 + e * size + b], `${size}-byte element ${e} byte ${b}`).to.equal((1 + e * size + (size - 1 - b)) & 0xff);
          }
          expect(backing[0]).to.equal(0);
          expect(backing.at(-1)).to.equal((elements * size + 2) & 0xff);
          expect(backing.at(-2)).to.equal((elements * size + 1) & 0xff);
        }
      }
    });

    it("twice is the identity; an empty run is fine", () => {
      const original = counting(4096);
      const copy = original.slice();
      swapElementBytes(copy, 8);
      expect(Buffer.from(copy).equals(Buffer.from(original))).to.equal(false);
      swapElementBytes(copy, 8);
      expect(Buffer.from(copy).equals(Buffer.from(original))).to.equal(true);
      swapElementBytes(new Uint8Array(0), 4);
    });

    it("turns the elements of a typed array into the other byte order (read back with DataView)", () => {
      const array = new Float64Array([1.5, -2.25, Math.PI]);
      const view = new Uint8Array(array.buffer);
      swapElementBytes(view, 8);
      const data = new DataView(array.buffer);
      expect([0, 1, 2].map((i) => data.getFloat64(i * 8, !HOST_IS_LITTLE_ENDIAN))).to.deep.equal([1.5, -2.25, Math.PI]);
    });

    it("refuses a run that is not whole elements, and element sizes it does not know", () => {
      expect(() => swapElementBytes(bytes(1, 2, 3), 2)).to.throw(RangeError, /3 bytes are not a whole number of 2-byte elements/);
      expect(() => swapElementBytes(bytes(1, 2, 3), 3)).to.throw(RangeError, /no swap for 3-byte elements/);
    });
  });

  describe("copySwapped", () => {
    it("writes a view's elements byte-reversed into the target at the offset, and leaves the source as it was", () => {
      const backing = new Int32Array([7, 0x01020304, -2, 9]);
      const source = new Int32Array(backing.buffer, 4, 2);
      const target = new Uint8Array(11).fill(0xee);
      copySwapped(source, target, 2);
      const data = new DataView(target.buffer);
      expect(data.getInt32(2, !HOST_IS_LITTLE_ENDIAN)).to.equal(0x01020304);
      expect(data.getInt32(6, !HOST_IS_LITTLE_ENDIAN)).to.equal(-2);
      expect([target[0], target[1], target[10]]).to.deep.equal([0xee, 0xee, 0xee]);
      expect([...backing]).to.deep.equal([7, 0x01020304, -2, 9]);
    });
  });
});
