// BigInts wider than 64 bits, written right on a big-endian host.
//
// msgpackr writes a BigInt outside the 64-bit range as its extension 0x42: the value's two's
// complement, big-endian, in as many 64-bit words as it needs (or, past 2^65536, in as few bytes as
// it needs). For the words it builds a BigUint64Array and reverses its bytes, which is right only in
// a little-endian memory: on s390x every word came out byte-reversed (2n ** 64n arrived as 2n ** 120n).
// Reading 0x42 goes through a DataView and is right everywhere.
//
// msgpackr has no hook for bigints, so on a big-endian host the codec notices that one was written
// (msgpackr reads `largeBigIntToFloat` only then) and encodes the value again with each such BigInt
// wrapped in a `WideBigInt`, whose extension writes the same bytes a little-endian host writes.
// Only big-endian hosts load any of this into msgpackr (codec.ts); the functions are pure.

/** A BigInt outside msgpackr's 64-bit range, on its way into the wire (big-endian hosts only). */
export class WideBigInt {
  constructor(readonly value: bigint) {}
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Whether msgpackr writes `value` as extension 0x42 rather than as a 64-bit integer. */
export function isWide(value: bigint): boolean {
  return value < INT64_MIN || value > UINT64_MAX;
}

/** The payload of extension 0x42 for `value`: exactly the bytes msgpackr writes on a little-endian host. */
export function wideBigIntBytes(value: bigint): Uint8Array {
  const empty = value < 0n ? -1n : 0n;
  if (value >> 65536n === empty) {
    // msgpackr's word path: the fewest 64-bit words that hold the value with its sign.
    let words = 1;
    while (value >> BigInt(64 * words - 1) !== empty) words++;
    return Buffer.from(BigInt.asUintN(64 * words, value).toString(16).padStart(16 * words, "0"), "hex");
  }
  // msgpackr's hex path: the fewest bytes that hold the value with its sign.
  const negative = value < 0n;
  let hex = (negative ? ~value : value).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  else if (parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`;
  const bytes = Buffer.from(hex, "hex");
  if (negative) for (let i = 0; i < bytes.length; i++) bytes[i] = ~bytes[i]!;
  return bytes;
}

/** Reads extension 0x42 (big-endian two's complement, any length) as msgpackr does. */
export function readWideBigInt(data: Uint8Array): bigint {
  if (data.length === 0) return 0n;
  const unsigned = BigInt(`0x${Buffer.from(data.buffer, data.byteOffset, data.length).toString("hex")}`);
  return data[0]! & 0x80 ? unsigned - (1n << BigInt(data.length * 8)) : unsigned;
}

/**
 * `value` with every wide BigInt in it replaced by a WideBigInt, as msgpackr would walk it: arrays,
 * Maps, Sets, an Error's cause and own properties, other objects' own enumerable properties (or
 * their toJSON). Parts without one are the caller's own objects, unchanged; the caller's value is
 * never modified (changed containers are copies). Cycles are left for the encoder to refuse.
 */
export function wrapWideBigInts(value: unknown): unknown {
  const onPath = new Set<object>();
  const visit = (node: unknown): unknown => {
    if (typeof node === "bigint") return isWide(node) ? new WideBigInt(node) : node;
    if (typeof node !== "object" || node === null || onPath.has(node)) return node;
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer || node instanceof Date || node instanceof RegExp || node instanceof WideBigInt) return node;
    onPath.add(node);
    try {
      if (Array.isArray(node)) {
        const items = node.map(visit);
        return items.some((item, i) => item !== node[i]) ? items : node;
      }
      if (node instanceof Map) {
        const before = [...node];
        const after = before.map(([k, v]) => [visit(k), visit(v)] as [unknown, unknown]);
        return after.some(([k, v], i) => k !== before[i]![0] || v !== before[i]![1]) ? new Map(after) : node;
      }
      if (node instanceof Set) {
        const before = [...node];
        const after = before.map(visit);
        return after.some((item, i) => item !== before[i]) ? new Set(after) : node;
      }
      if (node instanceof Error) {
        const copy = Object.create(Object.getPrototypeOf(node) as object) as Error;
        Object.defineProperties(copy, Object.getOwnPropertyDescriptors(node));
        let changed = false;
        for (const key of new Set(["cause", ...Object.keys(node)])) {
          if (!Object.hasOwn(node, key)) continue;
          const before = (node as unknown as Record<string, unknown>)[key];
          const after = visit(before);
          if (after === before) continue;
          (copy as unknown as Record<string, unknown>)[key] = after;
          changed = true;
        }
        return changed ? copy : node;
      }
      const toJSON = (node as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === "function") {
        const json = toJSON.call(node);
        const after = visit(json);
        return after === json ? node : after;
      }
      let copy: Record<string, unknown> | null = null;
      for (const key of Object.keys(node)) {
        const before = (node as Record<string, unknown>)[key];
        const after = visit(before);
        if (after !== before) (copy ??= { ...(node as Record<string, unknown>) })[key] = after;
      }
      return copy ?? node;
    } finally {
      onPath.delete(node);
    }
  };
  return visit(value);
}
