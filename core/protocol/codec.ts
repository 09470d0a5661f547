// The value codec: MessagePack (msgpackr) with extensions for typed arrays, Map, Set, Date, BigInt,
// Error and undefined. Portable across Node.js versions, unlike v8.serialize, because hosts may run
// different ones. Values with no wire form (functions, symbols, cycles, WeakMaps, Promises …) are
// refused with the path to them. Pure: no I/O.
//
// Byte order: the wire is little-endian (byte-order.ts), the same bytes from every host.
// - Typed arrays (Int16/32, Uint16/32, Float32/64, BigInt64/BigUint64; the one-byte kinds have no
//   order) carry their elements little-endian. A little-endian host writes and reads their memory
//   as it is, exactly as msgpackr does: no extra copy, pass or per-array test (the choice is made
//   once, when this module loads). A big-endian host writes each element byte-swapped into the
//   message (the caller's array is never touched), `decode` swaps its copy, `decodeInPlace` swaps
//   the received buffer where it views it.
// - DataView and ArrayBuffer have no element type: their bytes travel unchanged, so a program that
//   states the order in each call (`view.getFloat64(0, true)`) reads the same on every host.
// - Everything else msgpackr writes in a fixed order (MessagePack is big-endian: numbers, 64-bit
//   BigInts, Date timestamps, lengths), except BigInts wider than 64 bits, which msgpackr gets wrong
//   on a big-endian host: wide-bigint.ts rewrites them there.
// - A subclass of a typed array (`class Vector extends Float64Array`) travels as its base kind.
// - Limit: a plain `-0` arrives as `0` on every host (msgpackr writes it as the integer 0); inside a
//   Float32Array or Float64Array it survives.
import { Packr, addExtension } from "msgpackr";
import { HOST_IS_LITTLE_ENDIAN, copySwapped, swapElementBytes } from "./byte-order.ts";
import { WideBigInt, readWideBigInt, wideBigIntBytes, wrapWideBigInts } from "./wide-bigint.ts";

/** Thrown when a value cannot cross the wire; the message names where in the value the problem is. */
export class EncodeError extends Error {
  override name = "EncodeError";
}

class UnencodableMarker extends Error {}

const ERROR_EXTENSION = 0x45; // 'E'

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
  cause?: unknown;
  props?: Record<string, unknown>;
}

const ERROR_CONSTRUCTORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuilds an Error from its wire form, keeping the remote stack, code and cause. */
export function errorFromWire(wire: WireError): Error {
  const Ctor = ERROR_CONSTRUCTORS[wire.name] ?? Error;
  const error = new Ctor(wire.message);
  if (!(wire.name in ERROR_CONSTRUCTORS)) Object.defineProperty(error, "name", { value: wire.name, writable: true, configurable: true });
  error.stack = wire.stack ?? `${wire.name}: ${wire.message}`;
  if (wire.code !== undefined) (error as { code?: unknown }).code = wire.code;
  if (wire.cause !== undefined) error.cause = wire.cause;
  if (wire.props) Object.assign(error, wire.props);
  return error;
}

export function errorToWire(error: Error): WireError {
  const wire: WireError = { name: error.name, message: error.message, stack: error.stack };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) wire.code = code;
  if (error.cause !== undefined) wire.cause = error.cause;
  const props: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(error)) {
    if (key === "code" || key === "cause" || key === "name" || key === "message" || key === "stack") continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === "function") continue;
    props[key] = value;
    any = true;
  }
  if (any) wire.props = props;
  return wire;
}

addExtension({
  Class: Error,
  type: ERROR_EXTENSION,
  write: (error: Error) => errorToWire(error),
  read: (wire: WireError) => errorFromWire(wire),
});

/**
 * Objects whose contents JavaScript cannot read (a WeakMap's entries, a Promise's value): msgpackr
 * would write them as `{}`. Refused instead, like functions.
 */
const OPAQUE_CLASSES = [WeakMap, WeakSet, WeakRef, FinalizationRegistry, Promise] as const;
const OPAQUE_TAGS = new Set<unknown>(OPAQUE_CLASSES.map((Class) => Class.prototype[Symbol.toStringTag]));

/**
 * Matches the opaque classes (and their subclasses) in msgpackr's per-class extension lookup, which
 * only class instances reach: plain objects, arrays and Maps never pay for it. The toStringTag
 * lookup comes first because it is cheaper than five `instanceof` walks for the Dates, typed arrays
 * and class instances that do reach it; `instanceof` then confirms (a tag can be spoofed).
 */
class Opaque {
  static [Symbol.hasInstance](value: object): boolean {
    return OPAQUE_TAGS.has((value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag]) && opaqueClassOf(value) !== undefined;
  }
}

function opaqueClassOf(value: object): (typeof OPAQUE_CLASSES)[number] | undefined {
  return OPAQUE_CLASSES.find((Class) => value instanceof Class);
}

addExtension({
  Class: Opaque,
  write: (value: object) => {
    throw new UnencodableMarker(`a ${opaqueClassOf(value)?.name ?? "value"} has no wire form`);
  },
});

const packr = new Packr({
  moreTypes: true, // typed arrays, Set, Error, RegExp
  // Plain objects travel as msgpackr records (defined inside each message: no state shared between
  // messages), which leaves MessagePack maps free to mean Map: both round-trip as what they were.
  useRecords: true,
  mapsAsObjects: false,
  structuredClone: false,
  int64AsType: "bigint",
  // A function has no wire form: refuse it instead of silently sending nothing.
  writeFunction: () => {
    throw new UnencodableMarker("function");
  },
} as ConstructorParameters<typeof Packr>[0] & { writeFunction: () => never; mapsAsObjects: boolean });

/** Encodes a value; throws EncodeError naming the offending part (`what` says whose value it is). */
export function encode(value: unknown, what = "value"): Buffer {
  try {
    return pack(value);
  } catch (error) {
    throw new EncodeError(`${what} cannot be encoded: ${describeUnencodable(value) ?? (error as Error).message}`);
  }
}

export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/**
 * Decodes like `decode`, but typed arrays in the value are views of `bytes` wherever their alignment
 * allows (a Uint8Array always; a Float64Array when its bytes start at a multiple of 8): no copy. For a
 * buffer received for this one value (shared data), never reused afterwards: on a big-endian host
 * the elements of those views are swapped where they lie, so the buffer no longer holds wire bytes.
 * A value that is one large typed array lands aligned when `bytes` was allocated with
 * `allocateForDecode`.
 */
export function decodeInPlace(bytes: Uint8Array): unknown {
  viewTypedArrays = true;
  try {
    return packr.unpack(bytes);
  } finally {
    viewTypedArrays = false;
  }
}

/**
 * A buffer of `size` bytes for a value whose encoding starts with `firstByte`, placed so that if the
 * value is one typed array (ext 8/16/32 header of 4, 5 or 7 bytes), its elements start at a multiple
 * of 8 bytes, and `decodeInPlace` can view them.
 */
export function allocateForDecode(size: number, firstByte: number): Buffer {
  const header = firstByte === 0xc7 ? 4 : firstByte === 0xc8 ? 5 : firstByte === 0xc9 ? 7 : 0;
  const pad = (8 - header) % 8;
  // allocUnsafe's memory starts 8-aligned (its own ArrayBuffer, or an 8-aligned slice of the pool).
  return Buffer.allocUnsafe(size + pad).subarray(pad, pad + size);
}

/** The typed-array extension of msgpackr's moreTypes: a type code, then the array's bytes. Codes are msgpackr's. */
const TYPED_ARRAY_EXTENSION = 0x74;
const TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
const ARRAY_BUFFER_CODE = 16;
const DATA_VIEW_CODE = 17;
let viewTypedArrays = false;

type TypedArray = InstanceType<(typeof TYPED_ARRAYS)[number]>;

/** Reads extension 0x74 as msgpackr does (a copy), or as a view of the message under decodeInPlace. */
function readTypedArray(data: Uint8Array): TypedArray | ArrayBuffer | DataView {
  const code = data[0]!;
  const Ctor = TYPED_ARRAYS[code];
  if (viewTypedArrays && Ctor) {
    const offset = data.byteOffset + 1;
    const bytes = data.length - 1;
    const size = Ctor.BYTES_PER_ELEMENT;
    if (offset % size === 0 && bytes % size === 0) return new Ctor(data.buffer as ArrayBuffer, offset, bytes / size);
  }
  // As msgpackr itself reads it: a copy, which is aligned.
  const buffer = Uint8Array.prototype.slice.call(data, 1).buffer;
  if (Ctor) return new Ctor(buffer);
  if (code === ARRAY_BUFFER_CODE) return buffer;
  if (code === DATA_VIEW_CODE) return new DataView(buffer);
  throw new Error(`Could not find typed array for code ${code}`);
}

/**
 * On a big-endian host: the same, then the elements turned to this host's order. The bytes swapped
 * are the copy's, or under decodeInPlace the received buffer's own (it belongs to this one value).
 */
function readTypedArraySwapping(data: Uint8Array): TypedArray | ArrayBuffer | DataView {
  const value = readTypedArray(data);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) swapElementBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), value.BYTES_PER_ELEMENT);
  return value;
}

/** Typed arrays whose elements have a byte order (more than one byte each): what a big-endian host swaps. */
class MultiByteTypedArray {
  static [Symbol.hasInstance](value: object): boolean {
    return ArrayBuffer.isView(value) && ((value as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) > 1;
  }
}

type Allocate = (size: number) => { target: Buffer; targetView: DataView; position: number };

/** On a big-endian host: extension 0x74 as msgpackr writes it (header as its writeExtBuffer), elements little-endian. */
function writeTypedArraySwapped(array: TypedArray, allocate: Allocate): void {
  const length = array.byteLength;
  const code = TYPED_ARRAYS.findIndex((Ctor) => array instanceof Ctor);
  const header = length + 1 < 0x100 ? 4 : length + 1 < 0x10000 ? 5 : 7;
  const { target, targetView, position } = allocate(header + length);
  let at = position;
  if (header === 4) {
    target[at++] = 0xc7;
    target[at++] = length + 1;
  } else if (header === 5) {
    target[at++] = 0xc8;
    target[at++] = (length + 1) >> 8;
    target[at++] = (length + 1) & 0xff;
  } else {
    target[at++] = 0xc9;
    targetView.setUint32(at, length + 1);
    at += 4;
  }
  target[at++] = TYPED_ARRAY_EXTENSION;
  target[at++] = code;
  copySwapped(array, target, at);
}

/** msgpackr's 0x42 extension for BigInts past 64 bits, written right on a big-endian host (wide-bigint.ts). */
const WIDE_BIGINT_EXTENSION = 0x42;

/** The views msgpackr writes by their own rules: typed arrays it names by their constructor's name, Buffer, DataView. */
const STANDARD_VIEWS = new Set<unknown>([...TYPED_ARRAYS, Buffer, DataView]);

/**
 * A subclass of a typed array (`class Vector extends Float64Array`). msgpackr finds a typed array's
 * code by its constructor's name, so it would write code 255, which no host can read: the op would
 * fail on the far side with "Could not find typed array for code 255". Only views pay for the test.
 */
class TypedArraySubclass {
  static [Symbol.hasInstance](value: object): boolean {
    return ArrayBuffer.isView(value) && !STANDARD_VIEWS.has(value.constructor);
  }
}

/** Such a subclass travels as its base kind, over the same memory (a class cannot cross hosts). */
function asBaseKind(view: ArrayBufferView): ArrayBufferView {
  const Base = TYPED_ARRAYS.find((Ctor) => view instanceof Ctor);
  if (!Base) return new DataView(view.buffer, view.byteOffset, view.byteLength);
  return new Base(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength / Base.BYTES_PER_ELEMENT);
}

addExtension({ Class: TypedArraySubclass, write: asBaseKind } as unknown as Parameters<typeof addExtension>[0]);

// The choice of readers and writers is made here, once: a little-endian host registers exactly what
// it always had, so its hot paths do not test the byte order per value.
const pack: (value: unknown) => Buffer = HOST_IS_LITTLE_ENDIAN ? registerLittleEndian() : registerBigEndian();

function registerLittleEndian(): (value: unknown) => Buffer {
  addExtension({ type: TYPED_ARRAY_EXTENSION, unpack: readTypedArray } as unknown as Parameters<typeof addExtension>[0]);
  return (value) => packr.pack(value);
}

function registerBigEndian(): (value: unknown) => Buffer {
  addExtension({ Class: MultiByteTypedArray, type: TYPED_ARRAY_EXTENSION, pack: writeTypedArraySwapped, unpack: readTypedArraySwapping } as unknown as Parameters<typeof addExtension>[0]);
  addExtension({ Class: WideBigInt, type: WIDE_BIGINT_EXTENSION, pack: (wide: WideBigInt) => wideBigIntBytes(wide.value), unpack: readWideBigInt } as unknown as Parameters<typeof addExtension>[0]);
  // msgpackr reads this option only when it writes a BigInt past 64 bits: then the value is
  // written again with such BigInts wrapped, so that the extension above writes them.
  let wideBigIntWritten = false;
  Object.defineProperty(packr, "largeBigIntToFloat", { get: () => ((wideBigIntWritten = true), false) });
  return (value) => {
    wideBigIntWritten = false;
    const bytes = packr.pack(value);
    return wideBigIntWritten ? packr.pack(wrapWideBigInts(value)) : bytes;
  };
}

/** Finds the first part of a value that has no wire form, as a path like `.points[3].onClick`. */
export function describeUnencodable(value: unknown): string | null {
  const seen = new Set<object>();
  const visit = (node: unknown, path: string): string | null => {
    const type = typeof node;
    if (type === "function") return `${path || "the value"} is a function (${(node as () => void).name || "anonymous"})`;
    if (type === "symbol") return `${path || "the value"} is a symbol`;
    if (type !== "object" || node === null) return null;
    const object = node as object;
    if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer || object instanceof Date || object instanceof RegExp) return null;
    const opaque = opaqueClassOf(object);
    if (opaque) return `${path || "the value"} is a ${opaque.name}${subclassNote(object, opaque.name)}`;
    if (seen.has(object)) return `${path || "the value"} refers back to itself (a cycle${constructorNote(object)})`;
    seen.add(object);
    let found: string | null = null;
    if (object instanceof Map) {
      let i = 0;
      for (const [k, v] of object) {
        found = visit(k, `${path}<key ${i}>`) ?? visit(v, `${path}.get(${formatKey(k)})`);
        if (found) break;
        i++;
      }
    } else if (object instanceof Set) {
      let i = 0;
      for (const v of object) if ((found = visit(v, `${path}<item ${i++}>`))) break;
    } else if (Array.isArray(object)) {
      for (let i = 0; i < object.length && !found; i++) found = visit(object[i], `${path}[${i}]`);
    } else if (!(object instanceof Error)) {
      for (const key of Object.keys(object)) {
        if ((found = visit((object as Record<string, unknown>)[key], `${path}.${key}`))) break;
      }
    }
    seen.delete(object);
    return found;
  };
  return visit(value, "");
}

function constructorNote(object: object): string {
  const name = object.constructor?.name;
  return name && name !== "Object" && name !== "Array" ? ` through a ${name}` : "";
}

function subclassNote(object: object, base: string): string {
  const name = object.constructor?.name;
  return name && name !== base ? ` (${name})` : "";
}

function formatKey(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
}
