/** 32-bit FNV-1a of the bytes (an unsigned integer): the same on every architecture. */
export function fnv1a(data: Uint8Array): number;
/** The architecture the addon was compiled for, in Node's names (`x64`, `arm64`, `arm`, `riscv64`, `s390x`). */
export function compiledFor(): string;
/** The byte order the addon was compiled for, as `os.endianness()` names it. */
export function byteOrder(): "LE" | "BE";
/** The sum of the elements, read from the array's memory as this CPU's doubles, in index order. */
export function sumFloat64(values: Float64Array): number;
