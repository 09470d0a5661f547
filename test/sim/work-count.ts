// Counts the steps of the scheduler's loops over its hosts, slaves, pool and lists, so a test can
// tell a per-op cost that grows with the cluster (a scan over every slave per op) from a flat one
// without timing anything. The real modules are not changed: their Maps and Sets get a prototype
// that counts each element an iteration yields (same internal slots, same behaviour). Sets made
// later inside those Maps (a list per tag set, a host's slaves) are counted too. Arrays (the
// queue, the dispatcher's stale list) are not.
import type { Scheduler } from "../../core/runtime/scheduler/scheduler.ts";
import type { Meter } from "./meter.ts";

let meter: Meter | null = null;

function counted<T>(inner: IterableIterator<T>): IterableIterator<T> {
  const m = meter;
  return {
    next() {
      const step = inner.next();
      if (!step.done && m) m.iterations++;
      return step;
    },
    [Symbol.iterator]() {
      return this;
    },
  };
}

class CountingSet<T> extends Set<T> {
  override values(): SetIterator<T> {
    return counted(super.values()) as SetIterator<T>;
  }
  override keys(): SetIterator<T> {
    return counted(super.keys()) as SetIterator<T>;
  }
  override entries(): SetIterator<[T, T]> {
    return counted(super.entries()) as SetIterator<[T, T]>;
  }
  override [Symbol.iterator](): SetIterator<T> {
    return counted(super.values()) as SetIterator<T>;
  }
  override forEach(callback: (value: T, key: T, set: Set<T>) => void, thisArg?: unknown): void {
    const m = meter;
    super.forEach((value, key, set) => {
      if (m) m.iterations++;
      callback.call(thisArg, value, key, set);
    });
  }
}

class CountingMap<K, V> extends Map<K, V> {
  override set(key: K, value: V): this {
    adopt(value);
    return super.set(key, value);
  }
  override values(): MapIterator<V> {
    return counted(super.values()) as MapIterator<V>;
  }
  override keys(): MapIterator<K> {
    return counted(super.keys()) as MapIterator<K>;
  }
  override entries(): MapIterator<[K, V]> {
    return counted(super.entries()) as MapIterator<[K, V]>;
  }
  override [Symbol.iterator](): MapIterator<[K, V]> {
    return counted(super.entries()) as MapIterator<[K, V]>;
  }
  override forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    const m = meter;
    super.forEach((value, key, map) => {
      if (m) m.iterations++;
      callback.call(thisArg, value, key, map);
    });
  }
}

/** Makes a Set or Map count its iterations; for a host record, its set of slaves too. */
function adopt(value: unknown): void {
  if (value instanceof Set && !(value instanceof CountingSet)) Object.setPrototypeOf(value, CountingSet.prototype);
  else if (value instanceof Map && !(value instanceof CountingMap)) Object.setPrototypeOf(value, CountingMap.prototype);
  else if (value && typeof value === "object" && "slaves" in value && (value as { slaves: unknown }).slaves instanceof Set) adopt((value as { slaves: Set<unknown> }).slaves);
}

/** From now on, loop steps of this scheduler's containers add to `into.iterations`. */
export function countSchedulerLoops(scheduler: Scheduler, into: Meter): void {
  meter = into;
  // Private to TypeScript, plain properties at run time.
  const s = scheduler as unknown as Record<string, any>;
  adopt(s.hosts);
  adopt(s.slaves);
  adopt(s.pool.members);
  adopt(s.pool.withRoom);
  for (const list of (s.pool.withRoom as Map<unknown, Set<unknown>>).values()) adopt(list);
  adopt(s.log.unsettled);
  adopt(s.dispatcher.waiting);
}

/** Stops counting (the next instrumented run sets its own meter). */
export function stopCounting(): void {
  meter = null;
}
