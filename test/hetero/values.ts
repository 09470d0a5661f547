// The values of the four-architecture job (four-arch-job.ts), and what an op computes from one.
//
// `sample(seed)` holds typed arrays of every kind, whole and as views at odd offsets into one larger
// buffer, a DataView, -0, NaN, ±Infinity, BigInts past 2^53, Dates, Maps, Sets and nesting. It is
// built from the seed by assigning element VALUES (never raw bytes, except through the DataView's
// explicit-endian setters), so a big-endian host builds a value equal to this machine's: what must
// survive the wire is each element's value, not its bytes in memory.
//
// `observe(value)` is what a host computes from a value as it sees it: one exact line per fact
// (`path: text`), each typed-array element on its own line, so two observations differ exactly
// where a value arrived differently, and the differing line names the place.
import { createHash } from "node:crypto";

export interface Sample {
  seed: number;
  whole: Record<string, ArrayBufferView>;
  views: Record<string, ArrayBufferView>;
  numbers: Record<string, number>;
  bigints: bigint[];
  dates: Date[];
  map: Map<unknown, unknown>;
  set: Set<unknown>;
  nested: unknown;
}

/** Byte offsets of the views inside their one buffer: element-aligned, mostly not 8-aligned, never overlapping. */
const VIEW_BUFFER_BYTES = 168;
const JUNK = 0xee;

export function sample(seed: number): Sample {
  const views = viewsInto(new ArrayBuffer(VIEW_BUFFER_BYTES), seed);
  const whole = {
    int8: Int8Array.of(-128, 127, -1, 0, seed % 100),
    uint8: Uint8Array.of(0, 255, 1, seed & 0xff),
    uint8Clamped: Uint8ClampedArray.of(0, 255, 128, seed & 0xff, 300),
    int16: Int16Array.of(-32768, 32767, 256, -2, seed),
    uint16: Uint16Array.of(65535, 256, 1, seed),
    int32: Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 256, 65536 + seed),
    uint32: Uint32Array.of(2 ** 32 - 1, 16777216, 1, seed),
    float32: Float32Array.of(-0, NaN, Infinity, -Infinity, 1.5, -2.25, 3.4e38, 1e-45, seed / 3),
    float64: Float64Array.of(-0, NaN, Infinity, -Infinity, 1.5, -2.25, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, Math.PI * seed),
    bigInt64: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n, BigInt(seed)),
    bigUint64: BigUint64Array.of(2n ** 64n - 1n, 2n ** 53n + 1n, 1n, BigInt(seed) << 40n),
    // An odd length: a swap must not stop one element short or run one past.
    oddFloat64: Float64Array.from({ length: 7 }, (_, i) => (i - 3) * 1.25 + seed),
    empty: new Float64Array(0),
  };
  const date = new Date(Date.UTC(2026, 10, 27, 17, 0, 0, seed));
  return {
    seed,
    whole,
    views,
    numbers: { negZero: -0, nan: NaN, inf: Infinity, negInf: -Infinity, maxSafe: Number.MAX_SAFE_INTEGER, pastSafe: 2 ** 53 + 2, tiny: Number.MIN_VALUE, fraction: seed + 0.1, int32: -(2 ** 31) + seed },
    // Past 64 bits too: msgpackr writes those as words of its own, in an order a big-endian host got wrong.
    bigints: [2n ** 53n + 1n, -(2n ** 53n + 1n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, BigInt(seed) * 10n ** 16n, 2n ** 100n + BigInt(seed), -(2n ** 70n) - 1n],
    dates: [date, new Date(-1e12 - seed), new Date(8.64e15), new Date(NaN)],
    map: new Map<unknown, unknown>([
      ["float64", whole.float64],
      [-1.5, new Set([seed, "two", 3n ** 40n])],
      [2n ** 60n, new Map<unknown, unknown>([["inner", Int32Array.of(seed, -seed)], [7, date]])],
    ]),
    set: new Set<unknown>([1, "two", 2n ** 55n, -Infinity, NaN, new Date(seed), Uint16Array.of(seed, 513)]),
    nested: { level1: [{ level2: new Map<unknown, unknown>([["deep", [new Set([Int16Array.of(seed, -seed, 258)]), { when: date, f32: views.float32At44, list: [[[-0, NaN]]] }]]]) }] },
  };
}

/** Views into `buffer` at odd offsets (each aligned for its element, as JavaScript requires), filled by value; the bytes between them stay junk. */
function viewsInto(buffer: ArrayBuffer, seed: number): Record<string, ArrayBufferView> {
  new Uint8Array(buffer).fill(JUNK);
  const uint8At3 = new Uint8Array(buffer, 3, 7);
  const int16At10 = new Int16Array(buffer, 10, 5);
  const uint16At20 = new Uint16Array(buffer, 20, 3);
  const int32At28 = new Int32Array(buffer, 28, 3);
  const float32At44 = new Float32Array(buffer, 44, 5);
  const uint32At68 = new Uint32Array(buffer, 68, 1);
  const float64At72 = new Float64Array(buffer, 72, 3);
  const bigInt64At96 = new BigInt64Array(buffer, 96, 2);
  const bigUint64At112 = new BigUint64Array(buffer, 112, 2);
  const dataView = new DataView(buffer, 129, 27);
  const int8At157 = new Int8Array(buffer, 157, 3);
  const uint8ClampedAt161 = new Uint8ClampedArray(buffer, 161, 5);
  uint8At3.set([1, 2, 3, 250, 251, 252, seed & 0xff]);
  int16At10.set([-1, 258, -32768, 32767, seed]);
  uint16At20.set([0xbeef, 1, seed]);
  int32At28.set([-123456789, 0x01020304, seed]);
  float32At44.set([-0, NaN, -Infinity, 0.1, seed + 0.5]);
  uint32At68.set([0xdeadbeef]);
  float64At72.set([-0, 1 / 3, -seed * 1e300]);
  bigInt64At96.set([-(2n ** 53n) - 1n, BigInt(seed) - 2n ** 62n]);
  bigUint64At112.set([0x0102030405060708n, 2n ** 64n - 1n - BigInt(seed)]);
  // A DataView says its own byte order on each access: the same bytes must arrive.
  dataView.setFloat64(0, Math.PI * seed, true);
  dataView.setFloat64(8, -0, false);
  dataView.setInt32(16, -123456, false);
  dataView.setUint16(20, 0xbeef, true);
  for (let i = 22; i < 27; i++) dataView.setUint8(i, (i * 37 + seed) & 0xff);
  int8At157.set([-128, 127, seed % 100]);
  uint8ClampedAt161.set([0, 255, 128, seed & 0xff, 1]);
  return { uint8At3, int16At10, uint16At20, int32At28, float32At44, uint32At68, float64At72, bigInt64At96, bigUint64At112, dataView, int8At157, uint8ClampedAt161 };
}

/** A shared value that is one typed array, of odd length (a slave decodes such a value in place). */
export function column(seed: number): Float64Array {
  return Float64Array.from({ length: 1001 }, (_, i) => (i % 97 === 0 ? -0 : i % 89 === 0 ? NaN : (i - 500) * seed * 0.001953125 + i / 7));
}

/** A second one, of 64-bit integers past 2^53. */
export function ids(seed: number): BigUint64Array {
  return BigUint64Array.from({ length: 33 }, (_, i) => (2n ** 53n + BigInt(i) * 0x1_0000_0001n) ^ (BigInt(seed) << 56n));
}

/** A shared value larger than a frame (1 MiB): it reaches a slave in pieces, joined and decoded in place there. Odd length. */
export function wide(seed: number): Float64Array {
  return Float64Array.from({ length: 200_003 }, (_, i) => (i % 1009 === 0 ? -0 : Math.sin(i + seed) * 1e6));
}

/** Typed arrays longer than this are observed by a digest and their ends, not element by element. */
const LISTED_ELEMENTS = 4096;
const END_ELEMENTS = 8;

/** What a host computes from `value`: exact lines, one per fact, typed-array elements one per line. */
export function observe(value: unknown, path = ""): string[] {
  const lines: string[] = [];
  visit(value, path || "value", lines);
  return lines;
}

function visit(value: unknown, path: string, lines: string[]): void {
  if (value === null || typeof value !== "object") {
    lines.push(`${path}: ${scalar(value)}`);
    return;
  }
  if (value instanceof DataView) {
    lines.push(`${path}: DataView byteLength ${value.byteLength}`);
    if (value.byteLength === 27) {
      lines.push(`${path} getFloat64(0, LE): ${number(value.getFloat64(0, true))}`);
      lines.push(`${path} getFloat64(8, BE): ${number(value.getFloat64(8, false))}`);
      lines.push(`${path} getInt32(16, BE): ${value.getInt32(16, false)}`);
      lines.push(`${path} getUint16(20, LE): ${value.getUint16(20, true)}`);
    }
    lines.push(`${path} bytes: ${hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))}`);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    const array = value as unknown as ArrayLike<number | bigint> & ArrayBufferView;
    let sum: number | bigint = typeof array[0] === "bigint" ? 0n : 0;
    for (let i = 0; i < array.length; i++) sum = typeof sum === "bigint" ? sum + (array[i] as bigint) : sum + (array[i] as number);
    lines.push(`${path}: ${value.constructor.name} length ${array.length} byteLength ${value.byteLength} sum ${scalar(sum)}`);
    const listed = array.length <= LISTED_ELEMENTS;
    for (let i = 0; i < array.length; i++) if (listed || i < END_ELEMENTS || i >= array.length - END_ELEMENTS) lines.push(`${path}[${i}]: ${scalar(array[i])}`);
    // Each element's own bytes in one stated order (little-endian), whatever this host's order.
    const bytes = littleEndianBytes(array);
    lines.push(listed ? `${path} as little-endian bytes: ${hex(bytes)}` : `${path} as little-endian bytes, sha256: ${createHash("sha256").update(bytes).digest("hex")}`);
    return;
  }
  if (value instanceof Date) {
    lines.push(`${path}: Date ${number(value.getTime())} ${Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()}`);
    return;
  }
  if (value instanceof Map) {
    lines.push(`${path}: Map size ${value.size}`);
    let i = 0;
    for (const [key, item] of value) {
      visit(key, `${path}<key ${i}>`, lines);
      visit(item, `${path}.get(${keyText(key)})`, lines);
      i++;
    }
    return;
  }
  if (value instanceof Set) {
    lines.push(`${path}: Set size ${value.size}`);
    let i = 0;
    for (const item of value) visit(item, `${path}<item ${i++}>`, lines);
    return;
  }
  if (Array.isArray(value)) {
    lines.push(`${path}: Array length ${value.length}`);
    value.forEach((item, i) => visit(item, `${path}[${i}]`, lines));
    return;
  }
  const keys = Object.keys(value);
  lines.push(`${path}: ${value.constructor?.name ?? "null-prototype"} {${keys.join(", ")}}`);
  for (const key of keys) visit((value as Record<string, unknown>)[key], `${path}.${key}`, lines);
}

/** Exact text of a primitive: -0 is not 0, a BigInt is not a number, a string is quoted. */
function scalar(value: unknown): string {
  switch (typeof value) {
    case "number":
      return number(value);
    case "bigint":
      return `${value}n`;
    case "string":
      return JSON.stringify(value);
    case "undefined":
      return "undefined";
    default:
      return String(value);
  }
}

/** String(x) round-trips every double except -0, which it prints as 0. */
function number(value: number): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

function keyText(key: unknown): string {
  return typeof key === "object" && key !== null ? `[${key.constructor.name}]` : scalar(key);
}

function littleEndianBytes(array: ArrayLike<number | bigint> & ArrayBufferView): Uint8Array {
  const size = (array as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const out = new DataView(new ArrayBuffer(array.length * size));
  const kind = array.constructor.name;
  for (let i = 0; i < array.length; i++) {
    const at = i * size;
    const element = array[i]!;
    if (kind === "Float32Array") out.setFloat32(at, element as number, true);
    else if (kind === "Float64Array") out.setFloat64(at, element as number, true);
    else if (kind === "BigInt64Array") out.setBigInt64(at, element as bigint, true);
    else if (kind === "BigUint64Array") out.setBigUint64(at, element as bigint, true);
    else if (size === 1) out.setUint8(at, Number(element) & 0xff);
    else if (size === 2) out.setUint16(at, Number(element) & 0xffff, true);
    else out.setUint32(at, Number(element) >>> 0, true);
  }
  return new Uint8Array(out.buffer);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
