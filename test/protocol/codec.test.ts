import { expect } from "chai";
import { EncodeError, allocateForDecode, decode, decodeInPlace, encode } from "../../core/protocol/codec.ts";

const roundTrip = <T>(value: T): T => decode(encode(value)) as T;

describe("codec", () => {
  describe("round trips", () => {
    it("undefined, also inside objects and arrays", () => {
      expect(roundTrip(undefined)).to.equal(undefined);
      const object = roundTrip({ a: undefined, b: 1 });
      expect(object).to.deep.equal({ a: undefined, b: 1 });
      expect(Object.keys(object)).to.deep.equal(["a", "b"]);
      const array = roundTrip([undefined, 1, undefined]);
      expect(array).to.have.length(3);
      expect(array).to.deep.equal([undefined, 1, undefined]);
      expect(roundTrip(new Map([["k", undefined]])).get("k")).to.equal(undefined);
    });

    it("null and booleans", () => {
      expect(roundTrip(null)).to.equal(null);
      expect(roundTrip(true)).to.equal(true);
      expect(roundTrip(false)).to.equal(false);
      expect(roundTrip([null, true, false])).to.deep.equal([null, true, false]);
    });

    it("numbers: integers of every width, floats, NaN, ±Infinity", () => {
      const numbers = [0, 1, 31, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 53) + 1, 0.1, 1.5, -2.75, 1e300, -1e-300, Number.MIN_VALUE, Number.MAX_VALUE, Infinity, -Infinity];
      for (const n of numbers) expect(roundTrip(n), String(n)).to.equal(n);
      expect(roundTrip(NaN)).to.be.NaN;
      expect(roundTrip({ n: NaN }).n).to.be.NaN;
    });

    // A documented limit: msgpackr writes -0 as the integer 0 (`-0 >>> 0 === -0`), so the sign is
    // lost for plain numbers; inside a Float64Array it survives.
    it("-0 arrives as 0 in a plain number and as -0 inside a Float64Array", () => {
      expect(Object.is(roundTrip(-0), 0)).to.equal(true);
      expect(Object.is((roundTrip(new Float64Array([-0])) as Float64Array)[0], -0)).to.equal(true);
    });

    it("strings, including unicode", () => {
      for (const s of ["", "a", "héllo wörld", "中文字符", "emoji 🎉👩‍👩‍👧", "\u0000nul\u0000", "x".repeat(70_000)]) {
        expect(roundTrip(s)).to.equal(s);
      }
    });

    it("nested objects and arrays", () => {
      const value = { a: 1, b: { c: [1, "two", { d: [null, [true, []]] }], e: {} }, f: [[[]]], "key with space": "v", 日本: 1 };
      const back = roundTrip(value);
      expect(back).to.deep.equal(value);
      expect(Object.getPrototypeOf(back)).to.equal(Object.prototype);
    });

    it("many objects of the same shape and of different shapes in one value", () => {
      const value = [{ a: 1 }, { a: 2 }, { b: 3 }, { a: 4, b: 5 }, { b: 6, a: 7 }];
      expect(roundTrip(value)).to.deep.equal(value);
    });

    it("a plain object does not come back as a Map", () => {
      const back = roundTrip({ x: 1, y: "z" });
      expect(back).to.not.be.instanceOf(Map);
      expect(back.constructor).to.equal(Object);
      expect(back).to.deep.equal({ x: 1, y: "z" });
      expect(roundTrip({})).to.deep.equal({});
      expect(roundTrip({})).to.not.be.instanceOf(Map);
    });

    it("Map with non-string keys stays a Map", () => {
      const objectKey = { k: 1 };
      const map = new Map<unknown, unknown>([
        [1, "one"],
        [true, "yes"],
        [objectKey, "object"],
        [null, "null"],
        ["s", new Map([[2n, "big"]])],
      ]);
      const back = roundTrip(map);
      expect(back).to.be.instanceOf(Map);
      expect(back.size).to.equal(5);
      expect(back.get(1)).to.equal("one");
      expect(back.has("1")).to.equal(false);
      expect(back.get(true)).to.equal("yes");
      expect(back.get(null)).to.equal("null");
      const keys = [...back.keys()];
      expect(keys[2]).to.deep.equal({ k: 1 });
      expect(back.get(keys[2])).to.equal("object");
      const inner = back.get("s") as Map<bigint, string>;
      expect(inner).to.be.instanceOf(Map);
      expect(inner.get(2n)).to.equal("big");
      expect(roundTrip(new Map())).to.be.instanceOf(Map);
    });

    it("Set", () => {
      const back = roundTrip(new Set([1, "a", null, 3.5]));
      expect(back).to.be.instanceOf(Set);
      expect([...back]).to.deep.equal([1, "a", null, 3.5]);
      expect(roundTrip({ s: new Set() }).s).to.be.instanceOf(Set);
    });

    it("Date", () => {
      for (const ms of [0, 1_700_000_000_123, -86_400_000, 8.64e15]) {
        const back = roundTrip(new Date(ms));
        expect(back).to.be.instanceOf(Date);
        expect(back.getTime()).to.equal(ms);
      }
    });

    it("BigInt, small and huge, positive and negative", () => {
      for (const n of [0n, 5n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 100n, -(2n ** 100n), 3n ** 200n, -(7n ** 300n)]) {
        const back = roundTrip(n);
        expect(typeof back, String(n)).to.equal("bigint");
        expect(back === n, `${n} came back as ${back}`).to.equal(true);
      }
    });

    it("every typed array type, with its element type and values", () => {
      const cases: Array<ArrayBufferView & { length: number }> = [
        new Int8Array([-128, 0, 127]),
        new Uint8ClampedArray([0, 128, 255]),
        new Int16Array([-32768, 1, 32767]),
        new Uint16Array([0, 1, 65535]),
        new Int32Array([-(2 ** 31), 7, 2 ** 31 - 1]),
        new Uint32Array([0, 2 ** 32 - 1]),
        new Float32Array([1.5, -0.25, Infinity]),
        new Float64Array([Math.PI, -1e300, NaN, -0]),
        new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
        new BigUint64Array([0n, 2n ** 64n - 1n]),
      ];
      for (const array of cases) {
        const back = roundTrip(array);
        expect(back.constructor, array.constructor.name).to.equal(array.constructor);
        expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(array.buffer, array.byteOffset, array.byteLength)), array.constructor.name).to.equal(true);
      }
    });

    // The wire is little-endian on every host (a big-endian one swaps: byte-order-s390x.test.ts).
    it("typed-array elements are little-endian on the wire; a DataView's bytes travel as they are", () => {
      expect(encode(new Float64Array([1.5, -2.25])).toString("hex")).to.equal("c7117408000000000000f83f00000000000002c0");
      expect(encode(new Int32Array([1, 256])).toString("hex")).to.equal("c70974050100000000010000");
      const view = new DataView(new ArrayBuffer(12), 1, 9);
      view.setFloat64(1, -2.25, true);
      view.setUint8(0, 7);
      const back = roundTrip(view);
      expect(back.getFloat64(1, true)).to.equal(-2.25);
      expect([...new Uint8Array(back.buffer, back.byteOffset, back.byteLength)]).to.deep.equal([...new Uint8Array(view.buffer, 1, 9)]);
    });

    it("typed arrays that are views into a larger buffer (non-zero byteOffset)", () => {
      const backing = new ArrayBuffer(64);
      new Uint8Array(backing).forEach((_, i, bytes) => (bytes[i] = i * 3));
      const views = [new Float64Array(backing, 8, 3), new Int32Array(backing, 4, 5), new Uint16Array(backing, 2, 7), new BigInt64Array(backing, 16, 2), new Uint8Array(backing, 3, 9)];
      for (const view of views) {
        const back = roundTrip(view);
        expect(back.constructor).to.equal(view.constructor);
        expect([...(back as unknown as Iterable<unknown>)]).to.deep.equal([...(view as unknown as Iterable<unknown>)]);
      }
    });

    it("a subclass of any typed array (class Vector extends Float64Array) arrives as its base kind with the same elements, a view too", () => {
      const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
      for (const Kind of kinds) {
        const Subclass = class extends (Kind as unknown as new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView) {};
        const backing = new Uint8Array(48).map((_, i) => i * 7 + 1).buffer;
        const view = new Subclass(backing, 8, 3);
        const back = roundTrip(view);
        expect(back.constructor, Kind.name).to.equal(Kind);
        expect([...(back as unknown as Iterable<unknown>)], Kind.name).to.deep.equal([...(new Kind(backing, 8, 3) as unknown as Iterable<unknown>)]);
      }
    });

    it("Buffer stays a Buffer, Uint8Array stays a Uint8Array", () => {
      const buffer = Buffer.from("héllo bytes");
      const back = roundTrip(buffer);
      expect(Buffer.isBuffer(back)).to.equal(true);
      expect(back.equals(buffer)).to.equal(true);

      const slice = Buffer.from("0123456789").subarray(3, 7);
      expect(roundTrip(slice).toString()).to.equal("3456");

      const bytes = new Uint8Array([0, 1, 2, 254, 255]);
      const backBytes = roundTrip(bytes);
      expect(backBytes).to.be.instanceOf(Uint8Array);
      expect(Buffer.isBuffer(backBytes)).to.equal(false);
      expect([...backBytes]).to.deep.equal([0, 1, 2, 254, 255]);

      const nested = roundTrip({ b: buffer, u: bytes });
      expect(Buffer.isBuffer(nested.b)).to.equal(true);
      expect(Buffer.isBuffer(nested.u)).to.equal(false);
    });

    it("Error keeps its class, message, stack, code and cause", () => {
      const inner = new RangeError("inner problem");
      const error = Object.assign(new Error("outer problem", { cause: inner }), { code: "E_OUTER" });
      const back = roundTrip(error) as Error & { code?: unknown };
      expect(back).to.be.instanceOf(Error);
      expect(back.name).to.equal("Error");
      expect(back.message).to.equal("outer problem");
      expect(back.stack).to.equal(error.stack);
      expect(back.code).to.equal("E_OUTER");
      expect(back.cause).to.be.instanceOf(RangeError);
      expect((back.cause as Error).message).to.equal("inner problem");
      expect((back.cause as Error).stack).to.equal(inner.stack);
    });

    it("TypeError stays a TypeError with message, stack, code and a non-error cause", () => {
      const error = Object.assign(new TypeError("bad type", { cause: { detail: [1, 2] } }), { code: 42 });
      const back = roundTrip(error) as TypeError & { code?: unknown };
      expect(back).to.be.instanceOf(TypeError);
      expect(back.name).to.equal("TypeError");
      expect(back.message).to.equal("bad type");
      expect(back.stack).to.equal(error.stack);
      expect(back.code).to.equal(42);
      expect(back.cause).to.deep.equal({ detail: [1, 2] });
    });

    it("Error inside a value, with extra own properties and a custom name", () => {
      class QuotaError extends Error {
        override name = "QuotaError";
        limit = 10;
      }
      const back = roundTrip({ result: [new QuotaError("over quota")] }).result[0] as Error & { limit?: number };
      expect(back).to.be.instanceOf(Error);
      expect(back.name).to.equal("QuotaError");
      expect(back.message).to.equal("over quota");
      expect(back.limit).to.equal(10);
    });

    it("one object referenced twice (not a cycle) encodes", () => {
      const shared = { x: 1 };
      expect(roundTrip({ a: shared, b: [shared, shared] })).to.deep.equal({ a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] });
    });
  });

  describe("values without a wire form", () => {
    const encodeError = (value: unknown, what?: string): EncodeError => {
      try {
        encode(value, what);
      } catch (error) {
        expect(error).to.be.instanceOf(EncodeError);
        return error as EncodeError;
      }
      expect.fail("encode() did not throw");
    };

    it("a function: EncodeError naming the path", () => {
      const error = encodeError({ x: [1, { cb: () => 1 }] });
      expect(error.name).to.equal("EncodeError");
      expect(error.message).to.include(".x[1].cb");
      expect(error.message).to.include("function");
    });

    it("a function at the top, in a Map value and in a Set", () => {
      expect(encodeError(function handler() {}).message).to.match(/function \(handler\)/);
      expect(encodeError({ m: new Map([["k", () => 0]]) }).message).to.include('.m.get("k")');
      expect(encodeError({ s: new Set([1, () => 0]) }).message).to.include(".s<item 1>");
    });

    it("a symbol", () => {
      expect(encodeError({ a: { s: Symbol("tag") } }).message).to.match(/\.a\.s is a symbol/);
      expect(encodeError(Symbol("top")).message).to.include("symbol");
    });

    it("a cyclic object: the message says cycle", () => {
      const cyclic: { a: { b: unknown[] } } = { a: { b: [] } };
      cyclic.a.b.push(cyclic);
      const error = encodeError(cyclic);
      expect(error.message).to.include("cycle");
      expect(error.message).to.include(".a.b[0]");

      const map = new Map<string, unknown>();
      map.set("self", map);
      expect(encodeError({ m: map }).message).to.match(/cycle through a Map/);
    });

    it("a WeakMap, WeakSet, WeakRef, FinalizationRegistry or Promise (not an empty object): EncodeError naming the path and the kind", () => {
      const target = {};
      const cases: Array<[unknown, RegExp]> = [
        [{ cache: new WeakMap() }, /^value cannot be encoded: \.cache is a WeakMap$/],
        [{ a: [1, { seen: new WeakSet() }] }, /^value cannot be encoded: \.a\[1\]\.seen is a WeakSet$/],
        [{ ref: new WeakRef(target) }, /^value cannot be encoded: \.ref is a WeakRef$/],
        [{ registry: new FinalizationRegistry(() => {}) }, /^value cannot be encoded: \.registry is a FinalizationRegistry$/],
        [{ pending: Promise.resolve(1) }, /^value cannot be encoded: \.pending is a Promise$/],
        [new Map([["k", new WeakMap()]]), /^value cannot be encoded: \.get\("k"\) is a WeakMap$/],
        [new Set([new WeakSet()]), /^value cannot be encoded: <item 0> is a WeakSet$/],
        [Promise.resolve(1), /^value cannot be encoded: the value is a Promise$/],
      ];
      for (const [value, message] of cases) expect(encodeError(value).message).to.match(message);
    });

    it("an opaque object inside a class instance, and a subclass of one: named with the subclass", () => {
      class Cache extends WeakMap<object, number> {}
      class Holder {
        constructor(readonly store: Cache) {}
      }
      expect(encodeError({ h: new Holder(new Cache()) }, "result of load").message).to.equal("result of load cannot be encoded: .h.store is a WeakMap (Cache)");
    });

    it("the `what` argument names whose value it is", () => {
      expect(encodeError({ cb: () => 0 }, "input of resize").message).to.match(/^input of resize cannot be encoded: \.cb is a function/);
      expect(encodeError(Symbol("x")).message).to.match(/^value cannot be encoded/);
    });
  });
  describe("decodeInPlace: typed arrays as views of the received bytes", () => {
    /** `value` encoded into a buffer placed as allocateForDecode places it. */
    const received = (value: unknown): Buffer => {
      const bytes = encode(value);
      const target = allocateForDecode(bytes.length, bytes[0]!);
      bytes.copy(target);
      return target;
    };

    it("a large Uint8Array, Float64Array, Int32Array or BigInt64Array value is a view of the bytes, not a copy", () => {
      const values = [
        new Uint8Array(100_000).map((_, i) => i & 0xff),
        new Float64Array(20_000).map((_, i) => i / 3),
        new Int32Array(300).map((_, i) => -i),
        new BigInt64Array([1n, -2n, 3n ** 30n]),
        new Float32Array(10).fill(0.5),
      ];
      for (const value of values) {
        const bytes = received(value);
        const decoded = decodeInPlace(bytes) as ArrayBufferView;
        expect(decoded.constructor, value.constructor.name).to.equal(value.constructor);
        expect(decoded).to.deep.equal(value);
        expect(decoded.buffer, `${value.constructor.name} of ${value.byteLength} bytes: a view`).to.equal(bytes.buffer);
      }
    });

    it("typed arrays inside an object are views where aligned, copies where not; both read right", () => {
      const value = { name: "lut", bytes: new Uint8Array([1, 2, 3]), table: new Float64Array([1.5, 2.5]), more: new Float64Array([3.5]) };
      const bytes = received(value);
      const decoded = decodeInPlace(bytes) as typeof value;
      expect(decoded).to.deep.equal(value);
      expect(decoded.bytes.buffer, "a Uint8Array is always a view").to.equal(bytes.buffer);
      // Each Float64Array is a view or a copy depending on where it fell; either way it is aligned.
      for (const array of [decoded.table, decoded.more]) expect(array.byteOffset % 8).to.equal(0);
    });

    it("a Float64Array value at an odd offset (not placed by allocateForDecode) is copied, and reads right", () => {
      const bytes = encode(new Float64Array([1, 2, 3]));
      const odd = Buffer.alloc(bytes.length + 1).subarray(1);
      bytes.copy(odd);
      const decoded = decodeInPlace(odd) as Float64Array;
      expect([...decoded]).to.deep.equal([1, 2, 3]);
      expect(decoded.buffer).not.to.equal(odd.buffer);
    });

    it("plain decode still copies (a result must not pin the channel's read buffer)", () => {
      const bytes = encode(new Uint8Array(1000).fill(7));
      expect((decode(bytes) as Uint8Array).buffer).not.to.equal(bytes.buffer);
      const after = decodeInPlace(Buffer.from(bytes)) as Uint8Array;
      expect(after).to.have.length(1000);
      // decodeInPlace does not leave views switched on.
      expect((decode(bytes) as Uint8Array).buffer).not.to.equal(bytes.buffer);
    });

    it("ArrayBuffer and DataView values still decode (copied)", () => {
      const buffer = new Uint8Array([9, 8, 7]).buffer;
      expect(new Uint8Array(decodeInPlace(encode(buffer)) as ArrayBuffer)).to.deep.equal(new Uint8Array([9, 8, 7]));
      expect((decodeInPlace(encode(new DataView(buffer))) as DataView).getUint8(1)).to.equal(8);
    });
  });
});
