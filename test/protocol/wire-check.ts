// Decodes a message every way a host does and compares with what should arrive: used on both sides
// of the byte-order property test (byte-order-s390x.test.ts here, s390x-driver.ts under qemu).
import { allocateForDecode, decode, decodeInPlace } from "../../core/protocol/codec.ts";
import { differenceBetween } from "./wire-values.ts";

/** The ways a host decodes a message: a copy (results, inputs), in place where aligned (shared data), and in place from an odd address. */
export function decodings(bytes: Uint8Array): Array<[string, () => unknown]> {
  return [
    ["decode", () => decode(bytes)],
    [
      "decodeInPlace (placed by allocateForDecode)",
      () => {
        const placed = allocateForDecode(bytes.length, bytes[0] ?? 0);
        placed.set(bytes);
        return decodeInPlace(placed);
      },
    ],
    [
      "decodeInPlace (at an odd address)",
      () => {
        const odd = Buffer.alloc(bytes.length + 1).subarray(1);
        odd.set(bytes);
        return decodeInPlace(odd);
      },
    ],
  ];
}

/** Decodes `bytes` every way and compares with `expected`: a line per way that differs or throws. */
export function checkDecodings(name: string, bytes: Uint8Array, expected: unknown, side: string): string[] {
  const problems: string[] = [];
  for (const [how, run] of decodings(bytes)) {
    try {
      const difference = differenceBetween(run(), expected);
      if (difference) problems.push(`${name}: ${how} ${side}: ${difference}`);
    } catch (error) {
      problems.push(`${name}: ${how} ${side} threw ${(error as Error).stack ?? String(error)}`);
    }
  }
  return problems;
}
