// The values the byte-order property test sends between this machine and a big-endian Node.js
// (byte-order-s390x.test.ts, s390x-driver.ts): made the same on both from a seed, so each side can
// compare what arrives with the value as the other side had it, element by element. Also the
// comparison itself, which names the first difference. It is bundled into the driver that runs
// under qemu, with the one helper it imports.
import { seededRandom } from "../helpers/seeded-random.ts";

export interface WireCase {
  /** Names the value in a failure: kind, length, offset. */
  name: string;
  value: unknown;
  /** What arrives, where it is not the value itself (a documented limit). */
  arrives?: unknown;
}

type Kind = { name: string; Ctor: new (length: number) => ArrayLike<unknown> & ArrayBufferView; bytes: number };

const KINDS: Kind[] = [
  { name: "Int8Array", Ctor: Int8Array, bytes: 1 },
  { name: "Uint8Array", Ctor: Uint8Array, bytes: 1 },
  { name: "Uint8ClampedArray", Ctor: Uint8ClampedArray, bytes: 1 },
  { name: "Int16Array", Ctor: Int16Array, bytes: 2 },
  { name: "Uint16Array", Ctor: Uint16Array, bytes: 2 },
  { name: "Int32Array", Ctor: Int32Array, bytes: 4 },
  { name: "Uint32Array", Ctor: Uint32Array, bytes: 4 },
  { name: "Float32Array", Ctor: Float32Array, bytes: 4 },
  { name: "Float64Array", Ctor: Float64Array, bytes: 8 },
  { name: "BigInt64Array", Ctor: BigInt64Array, bytes: 8 },
  { name: "BigUint64Array", Ctor: BigUint64Array, bytes: 8 },
];

/** A subclass of each kind (class Vector extends Float64Array): it travels as its base kind over the same memory. Made once, so that every set of cases made from a seed has the same classes. */
const SUBCLASSES = new Map(KINDS.map((kind) => [kind, class extends (kind.Ctor as unknown as new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBufferView) {}]));

/** Element counts: empty, one, odd, around the ext 8 / ext 16 header limits, and one past 64 KiB for 8-byte kinds (ext 32). */
const LENGTHS = [0, 1, 2, 3, 7, 31, 33, 127, 129, 1001, 8195];

const FLOAT64_SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1.5, -2.25, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, Number.EPSILON, 2.2250738585072014e-308, 2 ** 53 + 2, Math.PI];
const FLOAT32_SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38];

/**
 * A typed array of `kind` with `length` elements. Floats are made from random bit patterns (every
 * exponent, NaN payloads, subnormals) through an integer array of the same memory, so no float
 * passes through a register that could quiet a NaN, with the special values at the front.
 */
function typedArray(kind: Kind, length: number, next: () => number): ArrayBufferView {
  const word = () => next();
  const bits64 = () => (BigInt(word()) << 32n) | BigInt(word());
  switch (kind.name) {
    case "Float32Array": {
      const bits = new Uint32Array(length);
      for (let i = 0; i < length; i++) bits[i] = word();
      const array = new Float32Array(bits.buffer);
      FLOAT32_SPECIAL.slice(0, length).forEach((v, i) => (array[i] = v));
      return array;
    }
    case "Float64Array": {
      const bits = new BigUint64Array(length);
      for (let i = 0; i < length; i++) bits[i] = bits64();
      const array = new Float64Array(bits.buffer);
      FLOAT64_SPECIAL.slice(0, length).forEach((v, i) => (array[i] = v));
      return array;
    }
    case "BigInt64Array": {
      const array = new BigInt64Array(length);
      for (let i = 0; i < length; i++) array[i] = BigInt.asIntN(64, bits64());
      [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, 2n ** 53n + 1n].slice(0, length).forEach((v, i) => (array[i] = v));
      return array;
    }
    case "BigUint64Array": {
      const array = new BigUint64Array(length);
      for (let i = 0; i < length; i++) array[i] = bits64();
      [2n ** 64n - 1n, 0n, 2n ** 63n, 2n ** 53n + 1n].slice(0, length).forEach((v, i) => (array[i] = v));
      return array;
    }
    default: {
      const array = new kind.Ctor(length) as unknown as { [i: number]: number };
      for (let i = 0; i < length; i++) array[i] = word(); // wrapped (clamped for Uint8Clamped) to the kind
      return array as unknown as ArrayBufferView;
    }
  }
}

/** `length` elements at element `offset` of a larger buffer whose other bytes are 0xab (a sent neighbour shows). */
function viewInto(kind: Kind, offset: number, length: number, next: () => number): ArrayBufferView {
  const backing = new ArrayBuffer((offset + length + 3) * kind.bytes);
  new Uint8Array(backing).fill(0xab);
  const view = new (kind.Ctor as unknown as new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView & { set(source: ArrayLike<unknown>): void })(backing, offset * kind.bytes, length);
  // set() between arrays of one kind copies bits, not values: NaN payloads stay.
  view.set(typedArray(kind, length, next) as unknown as ArrayLike<unknown>);
  return view;
}

/** A DataView at an odd offset whose fields were written in a stated order: its bytes travel as they are. */
function dataView(): DataView {
  const backing = new ArrayBuffer(40);
  new Uint8Array(backing).fill(0xcd);
  const view = new DataView(backing, 3, 29);
  view.setFloat64(1, 1.5, true);
  view.setInt32(9, -7, true);
  view.setFloat32(13, -2.25, false);
  view.setBigInt64(17, -(2n ** 62n) - 5n, true);
  view.setUint16(25, 0xbeef, true);
  return view;
}

function error<T extends Error>(made: T, props: Record<string, unknown> = {}): T {
  made.stack = `${made.name}: ${made.message}\n    at wire-values (made the same on both hosts)`;
  return Object.assign(made, props);
}

/** The cases for `seed`, in a fixed order; the same on every host. */
export function wireCases(seed: number): WireCase[] {
  const random = seededRandom(seed);
  // 32-bit words (exact: the helper's numbers are words divided by 2^32).
  const next = () => random() * 4294967296;
  const cases: WireCase[] = [];
  const add = (name: string, value: unknown, arrives?: unknown) => cases.push(arrives === undefined ? { name, value } : { name, value, arrives });

  add("Float64Array [1.5, -2.25] (the issue's)", new Float64Array([1.5, -2.25]));
  add("Int32Array [1, 256] (the issue's)", new Int32Array([1, 256]));
  for (const kind of KINDS) for (const length of LENGTHS) add(`${kind.name} of ${length}`, typedArray(kind, length, next));
  for (const kind of KINDS) {
    for (const [offset, length] of [[1, 1], [3, 5], [1, 33], [3, 1001]] as const) add(`${kind.name} of ${length} at element ${offset} of a larger buffer`, viewInto(kind, offset, length, next));
  }
  for (const kind of KINDS) {
    const base = viewInto(kind, 1, 5, next);
    add(`a subclass of ${kind.name}, 5 elements at element 1`, new (SUBCLASSES.get(kind)!)(base.buffer, base.byteOffset, 5), base);
  }
  add("Buffer of 13 at byte 3 of a larger one", Buffer.from([...Array(20).keys()]).subarray(3, 16));
  add("DataView of 29 at byte 3, fields little- and big-endian", dataView());
  add("ArrayBuffer of 13", new Uint8Array([...Array(13).keys()].map((i) => i * 19)).buffer);

  add("plain -0 (a documented limit: arrives as 0)", -0, 0);
  add("plain numbers", [NaN, Infinity, -Infinity, 1.5, -2.25, 2 ** 53 + 2, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1, 4294967296, -2147483649]);
  for (const n of [0n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 63n) - 1n, 2n ** 100n + 7n, -(2n ** 100n), 3n ** 200n, -(2n ** 127n), 2n ** 70000n + 1n]) {
    add(`BigInt ${n.toString().length > 24 ? `${n < 0n ? "-" : ""}2^${(n < 0n ? -n : n).toString(2).length - 1}…` : n}`, n);
  }
  for (const ms of [0, 1_700_000_000_000, 1_700_000_000_123, -86_400_000, 8.64e15, -8.64e15, 2 ** 32 * 1000 + 5, NaN]) add(`Date ${ms}`, new Date(ms));
  add("strings", ["", "héllo", "中文", "🎉", "x".repeat(300)]);
  add("RegExp, null, undefined, booleans", [/a+b/giu, null, undefined, true, false]);
  add("Map with typed arrays and non-string keys", new Map<unknown, unknown>([[1, new Int16Array([-2, 3, 0x7fff])], [2n ** 64n, new Float32Array([-0, NaN])], ["k", new Map([[true, new BigUint64Array([2n ** 64n - 1n])]])]]));
  add("Set with typed arrays", new Set<unknown>([new Uint32Array([0xdeadbeef, 1]), "x", 2n ** 65n, new Float64Array([-0])]));
  add("Error with code, cause and properties", error(new RangeError("out of range", { cause: new Float64Array([-0, NaN, Infinity]) }), { code: "E_RANGE", limit: 2n ** 80n, where: new Int32Array([1, 256]) }));
  add("Error of its own name", error(Object.assign(new Error("custom"), { name: "ByteOrderError" })));
  const nestedBacking = new ArrayBuffer(64);
  add("nested structure", {
    id: 7,
    samples: [new Float64Array(nestedBacking, 8, 3).fill(-2.25), { inner: new Int32Array(nestedBacking, 36, 5).fill(256), stamp: new Date(1_700_000_000_123) }],
    table: new Map([["a", [new BigInt64Array([-(2n ** 63n)]), new Uint16Array([1, 256, 65535])]]]),
    tags: new Set(["x", new Set([new Float32Array([1.5])])]),
    deep: [[[{ n: -0.5, big: -(2n ** 90n), f: new Float64Array([NaN]) }]]],
  });
  return cases;
}

/** The first difference between what arrived and what was expected, as a sentence with a path; null when equal. */
export function differenceBetween(actual: unknown, expected: unknown, path = ""): string | null {
  const where = path || "the value";
  if (typeof expected !== "object" || expected === null) {
    if (Object.is(actual, expected)) return null;
    return `${where}: ${show(actual)}, expected ${show(expected)}`;
  }
  if (typeof actual !== "object" || actual === null) return `${where}: ${show(actual)}, expected a ${expected.constructor.name}`;
  if (actual.constructor !== expected.constructor && !(expected instanceof Error)) return `${where}: a ${actual.constructor?.name}, expected a ${expected.constructor.name}`;
  if (expected instanceof DataView || expected instanceof ArrayBuffer) {
    const a = bytesOf(actual as DataView | ArrayBuffer);
    const e = bytesOf(expected);
    if (a.length !== e.length) return `${where}: ${a.length} bytes, expected ${e.length}`;
    const at = e.findIndex((byte, i) => a[i] !== byte);
    return at < 0 ? null : `${where}: byte ${at} is ${a[at]}, expected ${e[at]}`;
  }
  if (ArrayBuffer.isView(expected)) {
    const a = actual as unknown as ArrayLike<number | bigint>;
    const e = expected as unknown as ArrayLike<number | bigint>;
    if (a.length !== e.length) return `${where}: ${a.length} elements, expected ${e.length}`;
    // Floats compare by their bits (NaN payloads and -0 included), through an integer array of the same memory.
    const aBits = floatBits(actual as ArrayBufferView);
    const eBits = floatBits(expected);
    for (let i = 0; i < e.length; i++) {
      if (aBits ? aBits[i] !== eBits![i] : !Object.is(a[i], e[i])) return `${where}[${i}]: ${show(a[i])}${aBits ? ` (bits ${aBits[i]!.toString(16)})` : ""}, expected ${show(e[i])}${eBits ? ` (bits ${eBits[i]!.toString(16)})` : ""}`;
    }
    return null;
  }
  if (expected instanceof Date) return Object.is((actual as Date).getTime(), expected.getTime()) ? null : `${where}: ${show(actual)}, expected ${show(expected)}`;
  if (expected instanceof RegExp) return String(actual) === String(expected) ? null : `${where}: ${String(actual)}, expected ${String(expected)}`;
  if (expected instanceof Map) {
    const a = [...(actual as Map<unknown, unknown>)];
    const e = [...expected];
    if (a.length !== e.length) return `${where}: ${a.length} entries, expected ${e.length}`;
    for (let i = 0; i < e.length; i++) {
      const found = differenceBetween(a[i]![0], e[i]![0], `${path}<key ${i}>`) ?? differenceBetween(a[i]![1], e[i]![1], `${path}<value ${i}>`);
      if (found) return found;
    }
    return null;
  }
  if (expected instanceof Set) return differenceBetween([...(actual as Set<unknown>)], [...expected], `${path}<set>`);
  if (expected instanceof Error) {
    const a = actual as Error & Record<string, unknown>;
    if (!(a instanceof Error)) return `${where}: not an Error`;
    for (const key of ["name", "message", "stack"] as const) if (a[key] !== expected[key]) return `${where}.${key}: ${show(a[key])}, expected ${show(expected[key])}`;
    const found = differenceBetween(a.cause, expected.cause, `${path}.cause`);
    if (found) return found;
    return differenceBetween(ownFields(a), ownFields(expected), path);
  }
  if (Array.isArray(expected)) {
    const a = actual as unknown[];
    if (a.length !== expected.length) return `${where}: ${a.length} items, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const found = differenceBetween(a[i], expected[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  const aKeys = Object.keys(actual);
  const eKeys = Object.keys(expected);
  if (aKeys.join() !== eKeys.join()) return `${where}: keys ${aKeys.join(",")}, expected ${eKeys.join(",")}`;
  for (const key of eKeys) {
    const found = differenceBetween((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

function ownFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) if (key !== "stack" && key !== "message" && key !== "name" && key !== "cause") fields[key] = (error as unknown as Record<string, unknown>)[key];
  return fields;
}

function bytesOf(value: DataView | ArrayBuffer): Uint8Array {
  return value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function floatBits(array: ArrayBufferView): ArrayLike<number | bigint> | null {
  if (array instanceof Float32Array) return new Uint32Array(array.buffer, array.byteOffset, array.length);
  if (array instanceof Float64Array) return new BigUint64Array(array.buffer, array.byteOffset, array.length);
  return null;
}

function show(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (value instanceof Date) return `Date(${value.getTime()})`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
