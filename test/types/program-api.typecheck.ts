// Type-level test, checked by `npm run typecheck` (tsc): the master's calls are typed from the
// program's definitions. Each @ts-expect-error line must be an error, or tsc fails.
import { defineProgram } from "marionette-mnt";

export default defineProgram({
  init: () => ({ gain: 1, name: "" }),
  context: {
    setGain(ctx, gain: number) {
      ctx.gain = gain;
    },
    reset(ctx) {
      ctx.gain = 1;
    },
  },
  worker: {
    async scale(ctx, x: number, op) {
      const table = await op.shared.get<number[]>("table");
      return x * ctx.gain + table[0]!;
    },
    label(ctx, input: { id: number; tag?: string }) {
      return `${ctx.name}${input.id}`;
    },
    ping() {
      return "pong" as const;
    },
  },
  async main(m) {
    const scaled: number = await m.worker.scale(2);
    const label: string = await m.worker.label({ id: 1 }, { timeout: 1000 });
    const pong: "pong" = await m.worker.ping();
    await m.context.setGain(3);
    await m.context.reset();
    m.shared.set("table", [1]);
    for await (const { index, value } of m.map("scale", [1, 2, 3])) {
      const n: number = value + index;
      void n;
    }
    // @ts-expect-error a string is not the number `scale` takes
    await m.worker.scale("2");
    // @ts-expect-error `scale` needs its input
    await m.worker.scale();
    // @ts-expect-error no worker op of that name
    await m.worker.scael(2);
    // @ts-expect-error no context op of that name
    await m.context.setGian(3);
    // @ts-expect-error setGain takes a number
    await m.context.setGain("3");
    // @ts-expect-error the result of `scale` is a number, not a string
    const wrong: string = await m.worker.scale(1);
    // @ts-expect-error map inputs must fit the op
    m.map("scale", ["a"]);
    // @ts-expect-error map needs a known op name
    m.map("nope", [1]);
    // @ts-expect-error `label` input lacks `id`
    await m.worker.label({ tag: "x" });
    void scaled, label, pong, wrong;
    return 0;
  },
});
