// Benchmark statistics and the one measuring method every RPC benchmark uses, ours and the peers'.
//
// The method (see `measure`), identical for every target so the figures compare:
//
//   1. Throughput warm-up: `warmupOps` calls with `inFlight` outstanding, untimed (JIT, pools,
//      pipe buffers and lazy connections settle).
//   2. Throughput: `ops` calls with `inFlight` outstanding. As soon as one call settles the next is
//      issued, so the target is saturated for the whole run. opsPerSec = ops / seconds from the
//      first timed issue to the last timed completion.
//   3. Latency warm-up: `latencyWarmup` sequential calls, untimed.
//   4. Latency: `latencySamples` sequential calls, one in flight at a time; each is timed with
//      process.hrtime from issue to settlement. p50 and p99 are nearest-rank percentiles, in µs.
//
// A call is whatever the target's "do nothing remotely" is: `pool.run(0)`, an IPC message, a
// MessagePack frame, or a Marionette worker op. It carries a tiny argument (0) and returns 0.
// Any rejected call fails the measurement: a benchmark that hides errors measures nothing.

/** What every RPC benchmark reports. */
export interface PeerResult {
  name: string;
  /** Completed calls per second with `inFlight` outstanding. */
  opsPerSec: number;
  /** Median round trip of sequential calls, microseconds. */
  p50Us: number;
  /** 99th percentile round trip of sequential calls, microseconds. */
  p99Us: number;
  /** Timed calls in the throughput phase (warm-up excluded). */
  ops: number;
}

/** What every byte-throughput benchmark reports. */
export interface ByteResult {
  name: string;
  /** MiB (2^20 bytes) per second, from the first byte written to the receiver's confirmation. */
  mibPerSec: number;
  /** Bytes timed. */
  bytes: number;
}

export interface Method {
  /** Timed calls in the throughput phase. */
  ops: number;
  /** Calls kept outstanding in the throughput phases. */
  inFlight: number;
  /** Untimed calls before the throughput phase, with the same `inFlight`. */
  warmupOps: number;
  /** Timed sequential round trips. */
  latencySamples: number;
  /** Untimed sequential round trips before the samples. */
  latencyWarmup: number;
}

export const DEFAULT_METHOD: Readonly<Method> = Object.freeze({
  ops: 200_000,
  inFlight: 512,
  warmupOps: 20_000,
  latencySamples: 5_000,
  latencyWarmup: 1_000,
});

export type Call = () => Promise<unknown>;

export interface MeasureTarget {
  name: string;
  call: Call;
  /** Overrides of DEFAULT_METHOD; leave unset to compare with the peers. */
  method?: Partial<Method>;
}

/** Runs the whole method (see the top of this file) against one target. */
export async function measure(target: MeasureTarget): Promise<PeerResult> {
  const method = resolveMethod(target.method);
  await runWindow(target.call, method.warmupOps, method.inFlight);
  const seconds = await timeSeconds(() => runWindow(target.call, method.ops, method.inFlight));
  const samples = await sampleRoundTrips(target.call, method.latencySamples, method.latencyWarmup);
  const sorted = sortNumbers(samples);
  return {
    name: target.name,
    opsPerSec: method.ops / seconds,
    p50Us: percentile(sorted, 50, true),
    p99Us: percentile(sorted, 99, true),
    ops: method.ops,
  };
}

export function resolveMethod(overrides: Partial<Method> = {}): Method {
  const method: Method = { ...DEFAULT_METHOD, ...overrides };
  for (const [key, value] of Object.entries(method)) {
    const positive = key === "ops" || key === "inFlight" || key === "latencySamples";
    if (!Number.isSafeInteger(value) || value < (positive ? 1 : 0)) {
      throw new RangeError(`method.${key} must be a ${positive ? "positive" : "non-negative"} integer, got ${String(value)}`);
    }
  }
  return method;
}

/** Issues `n` calls keeping `inFlight` outstanding; settles when all are done or on the first rejection. */
export function runWindow(call: Call, n: number, inFlight: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (n <= 0) return resolve();
    let started = 0;
    let done = 0;
    let failed = false;
    const onDone = (): void => {
      if (failed) return;
      done += 1;
      if (done === n) resolve();
      else next();
    };
    const onFail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      reject(error);
    };
    const next = (): void => {
      if (failed || started >= n) return;
      started += 1;
      let pending: Promise<unknown>;
      try {
        pending = call();
      } catch (error) {
        return onFail(error);
      }
      pending.then(onDone, onFail);
    };
    for (let i = Math.min(inFlight, n); i > 0; i -= 1) next();
  });
}

/** Sequential round trips: `warmup` untimed, then `samples` timed ones, in microseconds. */
export async function sampleRoundTrips(call: Call, samples: number, warmup: number): Promise<Float64Array> {
  for (let i = 0; i < warmup; i += 1) await call();
  const result = new Float64Array(samples);
  for (let i = 0; i < samples; i += 1) {
    const start = process.hrtime.bigint();
    await call();
    result[i] = Number(process.hrtime.bigint() - start) / 1_000;
  }
  return result;
}

export async function timeSeconds(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Nearest-rank percentile (p in 0..100) of `values`. Sorts a copy unless `sorted` says the values
 * are already ascending. NaN for an empty list.
 */
export function percentile(values: ArrayLike<number>, p: number, sorted = false): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const ordered = sorted ? values : sortNumbers(values);
  const rank = Math.max(1, Math.ceil((p / 100) * ordered.length));
  return ordered[rank - 1]!;
}

export function sortNumbers(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** `value / reference` as "0.42×"; "n/a" when the reference is zero or either is not finite. */
export function formatRatio(value: number, reference: number): string {
  const ratio = value / reference;
  if (!Number.isFinite(ratio)) return "n/a";
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

/** Operations per second with thousands separators: "352,104". */
export function formatOps(opsPerSec: number): string {
  return Math.round(opsPerSec).toLocaleString("en-US");
}

/** Microseconds with one decimal: "41.2 µs". */
export function formatUs(us: number): string {
  return `${us.toFixed(1)} µs`;
}

export function formatMiBps(mibPerSec: number): string {
  return `${mibPerSec.toFixed(0)} MiB/s`;
}

/** Left-aligns the first column and right-aligns the others; rows[0] is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd();
  const [header, ...body] = rows;
  if (!header) return "";
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
