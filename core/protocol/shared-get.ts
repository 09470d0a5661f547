// The SharedGet payload (slave → agent: "send me the bytes of this value"), laid out here alone for
// both ends: `f64 size` (little-endian; the size its SharedVersion announced), then the sha256 in hex.
// The agent judges by the size whether its host can hold the value before it fetches a byte of it.
import { FrameError } from "./frame.ts";

const SIZE_BYTES = 8;

export function encodeSharedGet(hash: string, size: number): Buffer {
  const payload = Buffer.allocUnsafe(SIZE_BYTES + Buffer.byteLength(hash));
  payload.writeDoubleLE(size, 0);
  payload.write(hash, SIZE_BYTES, "latin1");
  return payload;
}

export function decodeSharedGet(payload: Buffer): { hash: string; size: number } {
  if (payload.length <= SIZE_BYTES) throw new FrameError(`a SharedGet payload of ${payload.length} bytes is too short for a size and a hash`);
  return { size: payload.readDoubleLE(0), hash: payload.toString("latin1", SIZE_BYTES) };
}
