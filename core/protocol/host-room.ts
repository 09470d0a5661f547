// What one host can hold, and the one phrase that says why a value does not fit there. Pure: the
// master judges an op's input by the facts of the agent's hello before sending it; the agent judges
// a shared value by its free memory at the moment a slave asks for it (shared-relay.ts). Both say it
// the same way: "<value>: 1.1 GiB, larger than the 1 GiB a 32-bit Node.js can allocate on h3".

/** What a host can hold (from its agent's hello, or measured by the agent itself). */
export interface HostRoom {
  wordBits: 32 | 64;
  /** The largest one Buffer its Node.js can allocate (`buffer.constants.MAX_LENGTH`). */
  maxBufferBytes: number;
  /** `os.freemem()` when measured (Linux: MemAvailable). */
  freeMemoryBytes: number;
}

/** `process.arch` values of 32-bit CPUs (s390 is 31-bit). */
export const WORD_BITS_32_ARCHES: readonly string[] = ["arm", "ia32", "mips", "mipsel", "ppc", "s390"];

export function wordBitsOf(arch: string): 32 | 64 {
  return WORD_BITS_32_ARCHES.includes(arch) ? 32 : 64;
}

/**
 * Free memory a value's copies may not take: left for the slaves' own heaps, the agent and the
 * system. os.freemem() is a snapshot and the host's other processes move it; a value that leaves
 * less than this would more likely end in the OOM killer (a lost slave) than in a clear error.
 */
export const MEMORY_RESERVE_BYTES = 64 * 1024 ** 2;

/**
 * Copies of an op's input on the slave's host: the joined Op message, and the decoded value (a typed
 * array is copied out of the message; other values become heap objects of about that size).
 */
export const INPUT_COPIES = 2;

/**
 * Why `bytes` (in one buffer, held `copies` times on the host) do not fit in `room`: a phrase
 * starting with the size, e.g. "1.1 GiB, larger than the 1 GiB a 32-bit Node.js can allocate";
 * null when they fit.
 */
export function whyNoRoom(bytes: number, copies: number, room: HostRoom): string | null {
  if (bytes > room.maxBufferBytes) {
    const [size, limit] = sizes(bytes, room.maxBufferBytes);
    return `${size}, larger than the ${limit} a ${room.wordBits}-bit Node.js can allocate`;
  }
  const spare = Math.max(0, room.freeMemoryBytes - MEMORY_RESERVE_BYTES);
  if (bytes * copies > spare) {
    const [size, free] = sizes(bytes * copies, spare);
    const what = copies === 1 ? size : `${formatSize(bytes)} × ${copies} copies = ${size}`;
    return `${what}, larger than the ${free} of free memory there (${formatSize(room.freeMemoryBytes)} less ${formatSize(MEMORY_RESERVE_BYTES)} kept for the processes)`;
  }
  return null;
}

/** The largest value that fits in `room` when held `copies` times (what whyNoRoom accepts). */
export function largestFitting(copies: number, room: HostRoom): number {
  return Math.min(room.maxBufferBytes, Math.floor(Math.max(0, room.freeMemoryBytes - MEMORY_RESERVE_BYTES) / copies));
}

/** "512 MiB", "1.1 GiB", "900 bytes" (rounded: 2^30 - 1 bytes read "1 GiB"). */
export function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  const rounded = (v: number) => (v < 10 ? Math.round(v * 10) / 10 : Math.round(v));
  while (unit < units.length - 1 && rounded(value) >= 1024) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${rounded(value)} ${units[unit]}`;
}

/** Two sizes for one sentence: exact byte counts when their rounded forms would read alike. */
function sizes(a: number, b: number): [string, string] {
  const [x, y] = [formatSize(a), formatSize(b)];
  if (x !== y) return [x, y];
  return [`${x} (${a.toLocaleString("en-US")} bytes)`, `${b.toLocaleString("en-US")} bytes`];
}

/**
 * The `code` of the error a slave's op gets when its host cannot hold a shared value it reads. The
 * master takes that answer as the host's refusal, not the op's failure: the op runs elsewhere.
 */
export const HOST_LIMIT_CODE = "host-limit";

export function hostLimitError(message: string): Error {
  const error = new Error(message);
  error.name = "HostLimitError";
  (error as Error & { code: string }).code = HOST_LIMIT_CODE;
  return error;
}

export function isHostLimitError(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: unknown }).code === HOST_LIMIT_CODE;
}
