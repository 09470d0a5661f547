// Builds the `m` object a program's main receives, on top of the runtime.
import type { MapOptions, MapResult, Master, OpOptions } from "../program/index.ts";
import { MntError } from "../errors.ts";
import type { Runtime } from "./runtime.ts";

/** What the `m` object needs of the runtime. */
export type MasterRuntime = Pick<Runtime, "issueWorker" | "issueContext" | "setShared" | "stats" | "pipelineCapacity">;

export function createMasterApi(runtime: MasterRuntime, workerNames: string[], contextNames: string[]): Master<any, any> {
  const worker = namedCalls(workerNames, "worker", (index, name, input, options?: OpOptions) => runtime.issueWorker(index, name, input, options));
  const context = namedCalls(contextNames, "context", (index, name, input) => runtime.issueContext(index, name, input)) as unknown;
  return {
    worker,
    context: context as Record<string, (input?: unknown) => Promise<void>>,
    shared: { set: (key: string, value: unknown) => runtime.setShared(key, value) },
    map: (name: string, inputs: Iterable<unknown> | AsyncIterable<unknown>, options?: MapOptions) => {
      const index = workerNames.indexOf(name);
      if (index < 0) throw unknownOp("worker", name, workerNames);
      return mapOps(runtime, index, name, inputs, options);
    },
    stats: () => runtime.stats(),
  };
}

/** m.map's least default concurrency: while slaves are still starting, their capacity is unknown. */
export const MIN_MAP_CONCURRENCY = 64;

type Issue = (index: number, name: string, input: unknown, options?: OpOptions) => Promise<unknown>;

/** An object with one method per op name; any other name fails loudly (untyped JS callers). */
function namedCalls(names: string[], kind: "worker" | "context", issue: Issue): Record<string, (input?: unknown, options?: OpOptions) => Promise<unknown>> {
  const calls: Record<string, (input?: unknown, options?: OpOptions) => Promise<unknown>> = Object.create(null);
  names.forEach((name, index) => {
    calls[name] = (input?: unknown, options?: OpOptions) => issue(index, name, input, options);
  });
  return new Proxy(calls, {
    get(target, property) {
      if (typeof property === "string" && property in target) return target[property];
      if (typeof property === "symbol" || property === "then" || property === "toJSON") return undefined;
      throw unknownOp(kind, property, names);
    },
  });
}

function unknownOp(kind: string, name: string, names: string[]): MntError {
  return new MntError("unknown-op", `m.${kind}.${name}: the program defines no ${kind} op "${name}"`, names.length ? `it has: ${names.join(", ")}` : `it defines no ${kind} ops`);
}

/**
 * Issues one op per input with at most `concurrency` in flight, pulling inputs lazily, and yields
 * results as they complete. The first failure stops issuing and is thrown to the consumer.
 */
async function* mapOps(runtime: MasterRuntime, index: number, name: string, inputs: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = {}): AsyncGenerator<MapResult<unknown>> {
  const { concurrency: limit, ...opOptions } = options;
  // Enough to fill every slave's pipeline twice over (so none idles while results travel back),
  // following the cluster as slaves join and their pipelines adapt; a fixed number would starve
  // a large cluster or flood a small one.
  const concurrency = limit !== undefined ? () => Math.max(1, limit) : () => Math.max(MIN_MAP_CONCURRENCY, 2 * runtime.pipelineCapacity);
  const iterator = Symbol.asyncIterator in inputs ? (inputs as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (inputs as Iterable<unknown>)[Symbol.iterator]();
  const done: Array<{ index: number; ok: boolean; value: unknown }> = [];
  let wake: (() => void) | null = null;
  let inFlight = 0;
  let next = 0;
  let exhausted = false;
  const settle = (entry: { index: number; ok: boolean; value: unknown }) => {
    inFlight--;
    done.push(entry);
    wake?.();
  };
  try {
    for (;;) {
      while (!exhausted && inFlight < concurrency()) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          break;
        }
        const at = next++;
        inFlight++;
        runtime.issueWorker(index, name, step.value, opOptions).then(
          (value) => settle({ index: at, ok: true, value }),
          (error) => settle({ index: at, ok: false, value: error }),
        );
      }
      if (done.length === 0) {
        if (exhausted && inFlight === 0) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
      // Take the whole batch at once: shift() per result would be quadratic in a large batch.
      const batch = done.splice(0);
      for (const entry of batch) {
        if (!entry.ok) {
          const error = entry.value as Error;
          throw Object.assign(error, { mapIndex: entry.index });
        }
        yield { index: entry.index, value: entry.value };
      }
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
