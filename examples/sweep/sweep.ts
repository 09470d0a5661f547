// A parameter sweep that leans on the ordering guarantee: each round's context op is issued
// WITHOUT awaiting it, immediately followed by that round's worker ops. Sequential semantics say
// every worker op sees exactly the context ops issued before it, so batch r must see round r's
// parameters even though all rounds are in flight at once.
import { setTimeout as sleep } from "node:timers/promises";
import { defineProgram } from "marionette-mnt";

const ROUNDS = 5;
const POINTS = 50;
const alphaOf = (round: number) => 0.2 * (round + 1); // 0.2, 0.4, … 1.0

/** A deterministic score with its peak at alpha = 0.6, x = 0.5. */
function score(alpha: number, x: number): number {
  return 1 - (x - 0.5) ** 2 - (alpha - 0.6) ** 2;
}

export default defineProgram({
  init: () => ({ alpha: Number.NaN, round: -1 }),
  context: {
    setParams(ctx, p: { alpha: number; round: number }) {
      ctx.alpha = p.alpha;
      ctx.round = p.round;
    },
  },
  worker: {
    async evaluate(ctx, x: number) {
      // A little pretend work keeps earlier rounds running while later context ops are queued.
      await sleep(2);
      return { round: ctx.round, alpha: ctx.alpha, x, score: score(ctx.alpha, x) };
    },
  },
  async main(m) {
    const contextDone: Promise<void>[] = [];
    const batches: Promise<{ round: number; alpha: number; x: number; score: number }>[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      contextDone.push(m.context.setParams({ alpha: alphaOf(round), round })); // deliberately not awaited
      batches.push(Array.from({ length: POINTS }, (_, i) => m.worker.evaluate(i / POINTS)));
    }
    // Await both together so a failing context op cannot leave worker promises unobserved.
    const [, results] = await Promise.all([Promise.all(contextDone), Promise.all(batches.map((b) => Promise.all(b)))]);

    const wrong: string[] = [];
    let best = results[0]![0]!;
    results.forEach((batch, round) =>
      batch.forEach((r, i) => {
        if (r.round !== round || r.alpha !== alphaOf(round) || r.x !== i / POINTS) {
          wrong.push(`batch ${round} #${i}: saw round=${r.round} alpha=${r.alpha} x=${r.x}`);
        }
        if (r.score > best.score) best = r;
      }),
    );
    if (wrong.length > 0) {
      console.log(`sweep: ${wrong.length} of ${ROUNDS * POINTS} results saw the wrong parameters:`);
      for (const line of wrong.slice(0, 10)) console.log(`  ${line}`);
      if (wrong.length > 10) console.log(`  … and ${wrong.length - 10} more`);
      return 1;
    }
    console.log(
      `sweep: ${ROUNDS} rounds × ${POINTS} points, every result saw its round's parameters; ` +
        `best alpha=${best.alpha.toFixed(1)} score=${best.score.toFixed(4)}`,
    );
    return 0;
  },
});
