// A short, bounded, one-line picture of an op's input for the trace and the joblog: cheap enough
// to make for every op (recovery.ts's summarizeInput goes through util.inspect, ~10× the cost).
import { decode } from "../protocol/codec.ts";

/** Inputs larger than this are not decoded for their picture: `<N bytes>`. */
const DECODE_MAX_BYTES = 64 * 1024;
const MAX_ITEMS = 4;

/** Pictures of the one-byte inputs (MessagePack fixints 0…127 and -32…-1), made once: the common small-number input costs a lookup. */
const FIXINTS: string[] = [];
for (let byte = 0; byte < 256; byte++) FIXINTS.push(byte < 0x80 ? String(byte) : byte >= 0xe0 ? String(byte - 256) : "");

export function inputSummary(payload: Uint8Array, maxChars = 80): string {
  if (payload.length === 0) return "undefined";
  if (payload.length === 1) {
    const fixint = FIXINTS[payload[0]!]!;
    if (fixint !== "") return fixint;
  }
  if (payload.length > DECODE_MAX_BYTES) return `<${payload.length} bytes>`;
  let value: unknown;
  try {
    value = decode(payload);
  } catch {
    return `<${payload.length} bytes>`;
  }
  const text = describe(value, 0);
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

function describe(value: unknown, depth: number): string {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value);
    case "object":
      return value === null ? "null" : describeObject(value, depth);
    default:
      return typeof value;
  }
}

function describeObject(value: object, depth: number): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Map) return `Map(${value.size})`;
  if (value instanceof Set) return `Set(${value.size})`;
  if (depth >= 1) return Array.isArray(value) ? `[${value.length}]` : "{…}";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => describe(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more`);
    return `[${items.join(", ")}]`;
  }
  const keys = Object.keys(value);
  const parts = keys.slice(0, MAX_ITEMS).map((key) => `${key}: ${describe((value as Record<string, unknown>)[key], depth + 1)}`);
  if (keys.length > MAX_ITEMS) parts.push("…");
  return `{${parts.join(", ")}}`;
}
