// The byte order of values on the wire, and the swap a host of the other order applies.
//
// Values cross hosts little-endian (nearly every host is: x64, arm64, armv7l, riscv64). A
// big-endian host (s390x) turns the elements of a typed array around on its own side, as it writes
// them into a message and as it reads them out of one; a little-endian host never looks at them.
// Pure: no I/O (the host's order is read from memory, not from `os`).

/** The byte order of every multi-byte element on the wire. */
export const WIRE_BYTE_ORDER = "LE";

/** True on a little-endian host: what the wire holds is already the memory's own layout. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reverses the bytes of each `elementBytes`-wide element of `bytes` in place (1: nothing to do).
 * Node's Buffer swaps run in C++ above 128 bytes (and as a short loop below).
 */
export function swapElementBytes(bytes: Uint8Array, elementBytes: number): void {
  if (elementBytes === 1 || bytes.length === 0) return;
  if (bytes.length % elementBytes !== 0) throw new RangeError(`${bytes.length} bytes are not a whole number of ${elementBytes}-byte elements`);
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (elementBytes === 2) view.swap16();
  else if (elementBytes === 4) view.swap32();
  else if (elementBytes === 8) view.swap64();
  else throw new RangeError(`no swap for ${elementBytes}-byte elements`);
}

/** Copies the bytes of `source` (a typed array) into `target` at `offset`, each element byte-reversed. */
export function copySwapped(source: ArrayBufferView & { BYTES_PER_ELEMENT: number }, target: Uint8Array, offset: number): void {
  const length = source.byteLength;
  target.set(new Uint8Array(source.buffer, source.byteOffset, length), offset);
  swapElementBytes(target.subarray(offset, offset + length), source.BYTES_PER_ELEMENT);
}
