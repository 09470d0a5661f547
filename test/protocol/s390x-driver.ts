// Runs on the big-endian Node.js (byte-order-s390x.test.ts bundles it with esbuild, as the agent is
// bundled, and starts it under qemu-s390x). Reads what this machine encoded, decodes it every way a
// host does, compares with the same values made here, and writes back its own encodings.
//
//   node s390x-driver.cjs <input.json>    input: { seed, encoded: { [name]: hex } }
//   stdout: one JSON line { arch, endianness, problems: string[], encoded: { [name]: hex }, inPlaceView }
import { readFileSync } from "node:fs";
import os from "node:os";
import { allocateForDecode, decodeInPlace, encode } from "../../core/protocol/codec.ts";
import { checkDecodings } from "./wire-check.ts";
import { differenceBetween, wireCases } from "./wire-values.ts";

export interface DriverInput {
  seed: number;
  encoded: Record<string, string>;
}

export interface DriverReport {
  arch: string;
  endianness: string;
  /** Each names the value, the way it was decoded and the first difference. */
  problems: string[];
  /** Each value encoded there, by name. */
  encoded: Record<string, string>;
  /** Whether decodeInPlace gave the large Float64Array as a view of the received bytes (the in-place swap ran). */
  inPlaceView: boolean;
}

function main(): void {
  const input = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as DriverInput;
  const problems: string[] = [];
  const encoded: Record<string, string> = {};
  const cases = wireCases(input.seed);
  const fresh = wireCases(input.seed);
  cases.forEach(({ name, value, arrives }, i) => {
    const hex = input.encoded[name];
    if (hex === undefined) problems.push(`${name}: not sent from the other side (the two sides made different cases)`);
    else problems.push(...checkDecodings(name, Buffer.from(hex, "hex"), arrives ?? value, "on s390x of bytes encoded on x64"));
    try {
      const bytes = encode(value);
      encoded[name] = bytes.toString("hex");
      // Writing swapped must not touch the caller's value.
      const changed = differenceBetween(value, fresh[i]!.value);
      if (changed) problems.push(`${name}: encode on s390x changed the value: ${changed}`);
      problems.push(...checkDecodings(name, bytes, arrives ?? value, "on s390x of its own bytes"));
    } catch (error) {
      problems.push(`${name}: encode on s390x threw ${(error as Error).stack ?? String(error)}`);
    }
  });
  // The in-place path proper: a large Float64Array placed aligned is a view of the received bytes, swapped there.
  const large = cases.find((c) => c.name === "Float64Array of 8195")!;
  const bytes = encode(large.value);
  const placed = allocateForDecode(bytes.length, bytes[0]!);
  placed.set(bytes);
  const decoded = decodeInPlace(placed) as Float64Array;
  const inPlaceView = decoded.buffer === placed.buffer;
  const report: DriverReport = { arch: process.arch, endianness: os.endianness(), problems, encoded, inPlaceView };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (process.argv[1]?.endsWith("s390x-driver.cjs")) main();
