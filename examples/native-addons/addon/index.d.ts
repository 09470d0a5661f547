/** 32-bit FNV-1a of the bytes (an unsigned integer): the same on every architecture. */
export function fnv1a(data: Uint8Array): number;
/** The architecture the addon was compiled for, in Node's names (`x64`, `arm64`, `arm`, `riscv64`). */
export function compiledFor(): string;
