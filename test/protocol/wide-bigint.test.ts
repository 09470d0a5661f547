// The pieces a big-endian host uses for BigInts past 64 bits, checked here against what msgpackr
// itself writes and reads on this (little-endian) host; the whole path runs on s390x in
// byte-order-s390x.test.ts.
import { expect } from "chai";
import { Packr, Unpackr } from "msgpackr";
import { WideBigInt, isWide, readWideBigInt, wideBigIntBytes, wrapWideBigInts } from "../../core/protocol/wide-bigint.ts";

// msgpackr alone, as the codec configures it for BigInts: its 0x42 payload for a value.
const msgpackr = new Packr({ moreTypes: true, useRecords: false, int64AsType: "bigint" } as ConstructorParameters<typeof Packr>[0]);
const unpackr = new Unpackr({ int64AsType: "bigint" } as ConstructorParameters<typeof Unpackr>[0]);
function msgpackrPayload(value: bigint): Buffer {
  const bytes = msgpackr.pack(value);
  // fixext 8/16 (d7/d8 42 …) for one or two words; ext 8/16/32 (c7/c8/c9, length, 42 …) past that.
  const start = ({ 0xd7: 2, 0xd8: 2, 0xc7: 3, 0xc8: 4, 0xc9: 6 } as Record<number, number>)[bytes[0]!];
  expect(start, `header ${bytes[0]}`).to.be.a("number");
  expect(bytes[start! - 1]).to.equal(0x42);
  return bytes.subarray(start);
}

const WIDE = [2n ** 64n, 2n ** 64n + 1n, -(2n ** 63n) - 1n, -(2n ** 64n), 2n ** 100n, -(2n ** 100n), 2n ** 127n - 1n, 2n ** 127n, -(2n ** 127n), -(2n ** 127n) - 1n, 3n ** 200n, -(7n ** 300n), 2n ** 65535n, -(2n ** 65535n), 2n ** 65536n, -(2n ** 65536n), 2n ** 70000n + 12345n, -(5n ** 31000n)];

describe("wide BigInts (past 64 bits)", () => {
  it("isWide: exactly the values msgpackr does not write as a 64-bit integer", () => {
    for (const n of [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n]) expect(isWide(n), String(n)).to.equal(false);
    for (const n of WIDE) expect(isWide(n), String(n)).to.equal(true);
  });

  it("wideBigIntBytes writes the very bytes msgpackr writes on a little-endian host (word and hex forms)", () => {
    for (const n of WIDE) expect(Buffer.from(wideBigIntBytes(n)).toString("hex"), String(n).slice(0, 40)).to.equal(msgpackrPayload(n).toString("hex"));
  });

  it("readWideBigInt reads what msgpackr writes, and the empty payload as 0", () => {
    for (const n of WIDE) expect(readWideBigInt(msgpackrPayload(n)) === n, String(n).slice(0, 40)).to.equal(true);
    for (const n of WIDE) expect(unpackr.unpack(msgpackr.pack(n)) === n).to.equal(true);
    expect(readWideBigInt(new Uint8Array(0))).to.equal(0n);
    expect(readWideBigInt(Uint8Array.from([0xff]))).to.equal(-1n);
    expect(readWideBigInt(Uint8Array.from([0x00, 0xff]))).to.equal(255n);
  });

  describe("wrapWideBigInts", () => {
    it("wraps wide BigInts wherever msgpackr would find them, copying only the containers on their path", () => {
      const shared = { untouched: [1n, "x"] };
      const error = new TypeError("bad", { cause: { n: 2n ** 70n } });
      (error as TypeError & { code?: string; extra?: unknown }).code = "E_X";
      (error as TypeError & { extra?: unknown }).extra = -(2n ** 80n);
      const value = { a: 2n ** 64n, list: [1, 2n ** 65n, shared], map: new Map<unknown, unknown>([[2n ** 66n, "k"], ["v", 2n ** 67n]]), set: new Set([2n ** 68n, 5n]), error, shared };
      const wrapped = wrapWideBigInts(value) as typeof value;
      expect(wrapped).to.not.equal(value);
      expect((wrapped.a as unknown as WideBigInt).value).to.equal(2n ** 64n);
      expect(wrapped.list[1]).to.be.instanceOf(WideBigInt);
      expect(wrapped.list[2]).to.equal(shared);
      expect(wrapped.shared).to.equal(shared);
      expect([...wrapped.map.keys()][0]).to.be.instanceOf(WideBigInt);
      expect(wrapped.map.get("v")).to.be.instanceOf(WideBigInt);
      expect([...wrapped.set][0]).to.be.instanceOf(WideBigInt);
      expect([...wrapped.set][1]).to.equal(5n);
      const wrappedError = wrapped.error as TypeError & { code?: string; extra?: unknown };
      expect(wrappedError).to.be.instanceOf(TypeError).and.not.equal(error);
      expect(wrappedError.message).to.equal("bad");
      expect(wrappedError.stack).to.equal(error.stack);
      expect(wrappedError.code).to.equal("E_X");
      expect((wrappedError.cause as { n: unknown }).n).to.be.instanceOf(WideBigInt);
      expect(wrappedError.extra).to.be.instanceOf(WideBigInt);
      // The caller's value is as it was.
      expect(value.a).to.equal(2n ** 64n);
      expect(value.list[1]).to.equal(2n ** 65n);
      expect(value.map.get("v")).to.equal(2n ** 67n);
      expect((error.cause as { n: unknown }).n).to.equal(2n ** 70n);
    });

    it("returns the very value when nothing in it is wide; leaves typed arrays, Dates and cycles alone", () => {
      const cyclic: { self?: unknown; n: bigint } = { n: 3n };
      cyclic.self = cyclic;
      for (const value of [1, "s", 2n ** 63n, null, undefined, [1n, 2], { a: new BigInt64Array([-(2n ** 63n)]) }, new Date(0), cyclic, new Map([[1n, 2n]])]) {
        expect(wrapWideBigInts(value)).to.equal(value);
      }
      expect((wrapWideBigInts(2n ** 64n) as WideBigInt).value).to.equal(2n ** 64n);
    });

    it("an object with toJSON is walked through what toJSON returns, as msgpackr writes it", () => {
      const value = { toJSON: () => ({ n: 2n ** 64n }) };
      expect(((wrapWideBigInts(value) as { n: WideBigInt }).n).value).to.equal(2n ** 64n);
    });
  });
});
