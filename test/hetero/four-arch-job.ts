// The four-architecture job (four-arch.test.ts runs it on x64, arm64, armv7l and s390x hosts, and
// on this machine alone): worker ops, context ops and shared data carrying the values of values.ts.
// Every op answers with its host's `process.arch` and `os.endianness()`, what it computed from what
// it received (`observe`, on the host), and the value itself back (so both directions are crossed).
//   --places x64,arm64,armv7l,s390x   one set of ops per place
//   --pin                             run each place's ops only on hosts tagged with its name
//   --out FILE                        every result (or op error) as JSON, for the test to compare
// Prints "four-arch: N results, F failed ops; by arch: x64 9, …" and exits 1 if any op failed.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { defineProgram } from "marionette-mnt";
import { column, ids, observe, sample, wide, type Sample } from "./values.ts";

interface Answer {
  arch: string;
  endianness: string;
  host: string;
  /** observe() of what the op received (or made), computed on its host. */
  seen: string[];
  /** The value itself, back to the master. */
  echo: unknown;
}

/** One op's outcome as the test reads it: `echoSeen` is observe() of the echo, here on the master. */
export interface JobResult {
  place: string;
  op: string;
  seed: number;
  ok: boolean;
  error?: string;
  arch?: string;
  endianness?: string;
  host?: string;
  seen?: string[];
  echoSeen?: string[];
}

function answer(seen: string[], echo: unknown): Answer {
  return { arch: process.arch, endianness: os.endianness(), host: os.hostname(), seen, echo };
}

export default defineProgram({
  init: () => ({ remembered: null as Sample | null, applied: 0 }),
  context: {
    remember(ctx, value: Sample) {
      ctx.remembered = value;
      ctx.applied++;
    },
  },
  worker: {
    /** A value sent as the op's input. */
    inspect(_ctx, value: Sample) {
      return answer(observe(value), value);
    },
    /** A value made on the host and sent back as the result. */
    produce(_ctx, seed: number) {
      const made = sample(seed);
      return answer(observe(made), made);
    },
    /** The value the context ops left on this slave. */
    recall(ctx) {
      return answer([`applied: ${ctx.applied}`, ...observe(ctx.remembered)], ctx.remembered);
    },
    /** Shared data as of the op's issue. */
    async readShared(_ctx, _input: null, op) {
      const value = {
        sample: await op.shared.get<Sample>("sample"),
        column: await op.shared.get<Float64Array>("column"),
        ids: await op.shared.get<BigUint64Array>("ids"),
        wide: await op.shared.get<Float64Array>("wide"),
      };
      return answer(observe(value), value);
    },
  },
  async main(m, argv) {
    const { values } = parseArgs({ args: argv, options: { places: { type: "string", default: "local" }, pin: { type: "boolean", default: false }, out: { type: "string" } } });
    const places = values.places.split(",");
    const options = (place: string) => (values.pin ? { tags: [place] } : {});
    const results: JobResult[] = [];
    const pending: Promise<void>[] = [];
    const record = (place: string, op: string, seed: number, run: Promise<Answer>) => {
      pending.push(
        run.then(
          (a) => void results.push({ place, op, seed, ok: true, arch: a.arch, endianness: a.endianness, host: a.host, seen: a.seen, echoSeen: observe(a.echo) }),
          (error: Error) => void results.push({ place, op, seed, ok: false, error: error.message }),
        ),
      );
    };

    for (const place of places) for (const seed of [1, 2]) record(place, "inspect", seed, m.worker.inspect(sample(seed), options(place)));
    for (const place of places) record(place, "produce", 3, m.worker.produce(3, options(place)));
    // Context ops are applied by every slave in issue order: each recall sees exactly the one before it.
    for (const seed of [4, 5]) {
      pending.push(m.context.remember(sample(seed)).catch((error: Error) => void results.push({ place: "every slave", op: "remember", seed, ok: false, error: error.message })));
      for (const place of places) record(place, "recall", seed, m.worker.recall(undefined, options(place)));
    }
    // Each op reads the versions current when it was issued.
    for (const seed of [6, 7]) {
      m.shared.set("sample", sample(seed));
      m.shared.set("column", column(seed));
      m.shared.set("ids", ids(seed));
      m.shared.set("wide", wide(seed));
      for (const place of places) record(place, "readShared", seed, m.worker.readShared(null, options(place)));
    }
    await Promise.all(pending);

    results.sort((a, b) => a.place.localeCompare(b.place) || a.op.localeCompare(b.op) || a.seed - b.seed);
    if (values.out) writeFileSync(values.out, JSON.stringify(results));
    const byArch = new Map<string, number>();
    for (const r of results) if (r.ok) byArch.set(r.arch!, (byArch.get(r.arch!) ?? 0) + 1);
    const failed = results.filter((r) => !r.ok);
    for (const f of failed) console.error(`four-arch: ${f.op}(${f.seed}) for ${f.place} failed: ${f.error}`);
    console.log(`four-arch: ${results.length} results, ${failed.length} failed ops; by arch: ${[...byArch].sort().map(([arch, n]) => `${arch} ${n}`).join(", ")}`);
    return failed.length === 0 ? 0 : 1;
  },
});
