// The simulated program's main: it issues worker ops (some with retries, timeouts, tags; some it
// cancels later), context ops (some awaited, some throwing), writes shared data, and awaits, the
// way runtime.ts and m.map drive the scheduler: each op retains the shared epoch at issue and
// releases it when it settles. Every settle is checked on the spot (invariants.ts, 1 and 2).
import { AbortError, MntError, TimeoutError } from "../../core/errors.ts";
import { PoisonOpError } from "../../core/runtime/recovery.ts";
import type { ContextOp, OpSettler, WorkerOp } from "../../core/runtime/scheduler/types.ts";
import { SimContextError, SimSlaveAbort, SimUserError, expectedValue } from "./invariants.ts";
import { Random } from "./random.ts";
import type { ProgramPlan } from "./scenario.ts";
import type { SimContext } from "./simulation.ts";

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;
const ABANDONED = 3;

/** One worker op as main issued it: what it is, what it should come to, and how it settled. */
export class OpRec implements OpSettler {
  op: WorkerOp | null = null;
  state = PENDING;
  /** Main cancelled it. */
  cancelled = false;
  /** User-code throws the scheduler took in (retries consumed, or the final rejection). */
  throwsSeen = 0;
  /** Deaths of slaves while running it that the scheduler must charge it with. */
  charges = 0;
  /** Runs started on slaves. */
  runs = 0;
  /** Times the scheduler sent it to a slave. */
  dispatches = 0;
  /** Its input is too large for a small host; it reads a shared value too large for one. */
  largeInput = false;
  largeShared = false;
  /** Small hosts that refused it (the large shared value), by name; null until one did. */
  refusedBy: Set<string> | null = null;

  constructor(
    private readonly program: SimProgram,
    readonly index: number,
    /** Context ops main had issued before it. */
    readonly expectedCtx: number,
    readonly epoch: number,
    /** Work, ms at speed 1. */
    readonly size: number,
    readonly retries: number,
    /** User code throws on its first `failTimes` runs (as the scheduler sees them). */
    readonly failTimes: number,
    readonly timeoutMs: number | undefined,
    /** Ignores cancellation and never ends. */
    readonly hang: boolean,
    /** Crashes every slave that runs it. */
    readonly poison: boolean,
    readonly tags: readonly string[] | null,
  ) {}

  get settled(): boolean {
    return this.state !== PENDING;
  }

  resolve(value: unknown): void {
    this.program.settled(this, RESOLVED, value);
  }

  reject(error: Error): void {
    this.program.settled(this, REJECTED, error);
  }

  abandon(error: Error): void {
    this.program.settled(this, ABANDONED, error);
  }
}

/** One context op as main issued it. */
export class CtxRec implements OpSettler {
  state = PENDING;
  entry: ContextOp | null = null;
  /** Slaves that applied it. */
  applied = 0;
  /** What it throws on every slave (one object: thousands of slaves apply it). */
  readonly error: SimContextError | null;

  constructor(
    private readonly program: SimProgram,
    readonly seq: number,
    readonly throws: boolean,
  ) {
    this.error = throws ? new SimContextError(seq) : null;
  }

  resolve(): void {
    this.program.contextSettled(this, RESOLVED, null);
  }

  reject(error: Error): void {
    this.program.contextSettled(this, REJECTED, error);
  }

  abandon(error: Error): void {
    this.program.contextSettled(this, ABANDONED, error);
  }
}

type Mark = { at: number; kind: "context"; awaited: boolean; throws: boolean } | { at: number; kind: "shared" } | { at: number; kind: "wait" };

interface SharedVersionRec {
  epoch: number;
  hash: string;
}

export class SimProgram {
  /** Worker ops issued and not settled, by op id. */
  private readonly live = new Map<number, OpRec>();
  /** Context ops by sequence number (1-based). */
  readonly contexts: CtxRec[] = [];
  private readonly marks: Mark[] = [];
  private markAt = 0;
  private issued = 0;
  private outstanding = 0;
  private contextsOutstanding = 0;
  /** Settles seen per op index (exactly once). */
  private readonly settleCount: Uint8Array;
  private blockedOn: CtxRec | "all" | "window" | null = null;
  private readonly random: Random;
  private readonly special = new Map<number, "poison" | "hang" | "impossible">();
  private readonly payloads: Uint8Array;
  /** Which ops are too large for small hosts: a stream of its own (the other draws stay as they were). */
  private readonly sizes: Random;
  private readonly sharedVersions = new Map<string, SharedVersionRec[]>();
  private sharedWrites = 0;
  private wakeScheduled = false;
  private stopped = false;
  finished = false;
  finishedAt = 0;
  /** The last op to settle, and how (what main waited for at the end). */
  lastSettled = "";
  /** When main issued its last worker op, and the cluster's capacity and busy time integrals then. */
  lastIssuedAt = 0;
  atLastIssue: { capacity: number; busy: number } | null = null;
  /** Useful work done (ms at speed 1): runs whose outcome the program received. */
  work = 0;
  readonly outcomes = { resolved: 0, userErrors: 0, timeouts: 0, cancelled: 0, poisoned: 0, placement: 0, abandoned: 0, contextErrors: 0 };

  constructor(
    private readonly sim: SimContext,
    private readonly plan: ProgramPlan,
    seed: number,
  ) {
    this.random = new Random(seed, 4);
    this.sizes = new Random(seed, 11);
    this.settleCount = new Uint8Array(plan.ops);
    this.payloads = new Uint8Array(plan.ops * 4);
    const r = new Random(seed, 5);
    const at = () => r.int(0, plan.ops);
    for (let i = 0; i < plan.contextOps; i++) this.marks.push({ at: at(), kind: "context", awaited: r.chance(plan.awaitContext), throws: r.chance(plan.throwingContext) });
    for (let i = 0; i < plan.sharedSets; i++) this.marks.push({ at: at(), kind: "shared" });
    for (let i = 0; i < plan.waits; i++) this.marks.push({ at: at(), kind: "wait" });
    this.marks.sort((a, b) => a.at - b.at);
    const special = (count: number, kind: "poison" | "hang" | "impossible") => {
      const within = Math.max(1, Math.floor(plan.ops * plan.specialsWithin));
      for (let i = 0; i < count && plan.ops > 0; i++) this.special.set(r.int(0, within - 1), kind);
    };
    special(plan.poison, "poison");
    special(plan.hangs, "hang");
    special(plan.impossibleTags, "impossible");
  }

  /** The op a port call refers to, while it is not settled. */
  recOf(op: WorkerOp): OpRec | undefined {
    return this.live.get(op.id);
  }

  start(): void {
    this.step();
  }

  // ---------------------------------------------------------------- main

  /** Runs main until it has to wait (a window full, an awaited context op, a Promise.all) or ends. */
  private step(): void {
    this.wakeScheduled = false;
    const { plan, sim } = this;
    for (;;) {
      if (this.stopped || sim.scheduler.fatalError) {
        this.stopped = true;
        if (this.outstanding === 0 && this.contextsOutstanding === 0) this.finish();
        return;
      }
      const blocked = this.blockedOn;
      if (blocked !== null) {
        if (blocked === "all" && (this.outstanding > 0 || this.contextsOutstanding > 0)) return;
        if (blocked === "window" && this.outstanding >= this.window()) return;
        if (blocked instanceof CtxRec && blocked.state === PENDING) return;
        this.blockedOn = null;
      }
      const mark = this.marks[this.markAt];
      if (mark && mark.at <= this.issued) {
        this.markAt++;
        if (mark.kind === "context") this.issueContext(mark.awaited, mark.throws);
        else if (mark.kind === "shared") this.writeShared();
        else this.blockedOn = "all";
        continue;
      }
      if (this.issued < plan.ops) {
        if (this.outstanding >= this.window()) {
          this.blockedOn = "window";
          continue;
        }
        this.issueWorker();
        continue;
      }
      if (this.outstanding > 0 || this.contextsOutstanding > 0) {
        this.blockedOn = "all";
        return;
      }
      return this.finish();
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.finishedAt = this.sim.clock.now();
  }

  private window(): number {
    const w = this.plan.window;
    if (w === "auto") return Math.max(64, 2 * this.sim.scheduler.pipelineCapacity);
    return w;
  }

  private wake(): void {
    if (this.wakeScheduled || this.finished) return;
    this.wakeScheduled = true;
    this.sim.clock.defer(() => this.step());
  }

  private issueWorker(): void {
    const { sim, plan, random } = this;
    const index = this.issued++;
    this.lastIssuedAt = sim.clock.now();
    if (this.issued === plan.ops) this.atLastIssue = { capacity: sim.cluster.capacity.at(this.lastIssuedAt), busy: sim.cluster.busy.at(this.lastIssuedAt) };
    const kind = this.special.get(index);
    const size = random.lognormal(plan.meanOpMs, plan.sizeSigma);
    let retries = 0;
    let failTimes = 0;
    let timeout: number | undefined;
    let tags: string[] | null = null;
    if (random.chance(plan.retried)) {
      retries = random.int(1, 2);
      failTimes = random.int(1, retries);
    } else if (random.chance(plan.failing)) {
      retries = random.int(0, 1);
      failTimes = retries + 1;
    }
    if (kind === "hang" || random.chance(plan.timeouts)) timeout = Math.max(20, random.uniform(5, 50) * size);
    if (kind === "impossible") tags = ["tpu"];
    else if (random.chance(plan.tagged)) tags = random.pick(plan.tagChoices);
    const cancelAfter = random.chance(plan.cancels) ? random.exponential(Math.max(1, plan.meanOpMs) * 2) : null;
    const epoch = sim.store.retain();
    const rec = new OpRec(this, index, this.contexts.length, epoch, size, retries, failTimes, timeout, kind === "hang", kind === "poison", tags);
    rec.largeInput = this.sizes.chance(plan.largeInputs ?? 0);
    rec.largeShared = this.sizes.chance(plan.largeShared ?? 0);
    // A large input is 8 bytes (its index, then zeros): more than a small host takes (cluster.ts, SMALL_ROOM).
    const payload = rec.largeInput ? new Uint8Array(8) : this.payloads.subarray(index * 4, index * 4 + 4);
    new DataView(payload.buffer, payload.byteOffset, 4).setUint32(0, index, true);
    this.outstanding++;
    sim.meter.enter();
    const op = sim.scheduler.issueWorker({ nameIndex: 0, payload, epoch, retries: retries || undefined, timeout, tags: tags ?? undefined }, rec);
    sim.meter.exit();
    rec.op = op;
    if (op.ctxVersion !== rec.expectedCtx) sim.violations.add(`op #${index} (op ${op.id}) was stamped with context version ${op.ctxVersion}; main had issued ${rec.expectedCtx} context ops before it`);
    if (!rec.settled) this.live.set(op.id, rec);
    if (cancelAfter !== null) {
      sim.clock.after(cancelAfter, () => {
        if (rec.settled) return;
        rec.cancelled = true;
        sim.meter.enter();
        sim.scheduler.cancel(op, new AbortError(`op #${index} was cancelled by main`));
        sim.meter.exit();
      });
    }
  }

  private issueContext(awaited: boolean, throws: boolean): void {
    const { sim } = this;
    const rec = new CtxRec(this, this.contexts.length + 1, throws);
    this.contexts.push(rec);
    this.contextsOutstanding++;
    sim.meter.enter();
    const entry = sim.scheduler.issueContext(0, new Uint8Array(0), rec);
    sim.meter.exit();
    rec.entry = entry;
    if (entry.seq !== rec.seq) sim.violations.add(`context op ${rec.seq} of main got sequence number ${entry.seq}`);
    if (awaited) this.blockedOn = rec;
  }

  private writeShared(): void {
    const { sim } = this;
    const key = `k${this.sharedWrites % Math.max(1, this.plan.sharedKeys)}`;
    // Distinct values: one version, one blob, so a freed blob means a freed version.
    const version = sim.store.set(key, `${key}:${this.sharedWrites++}:${sim.scenario.seed}`);
    // As the runtime's SharedServer.set: the version this one supersedes goes at once when no op
    // can read it (with every op settled, no later release would free it).
    sim.store.collect();
    let list = this.sharedVersions.get(key);
    if (!list) this.sharedVersions.set(key, (list = []));
    list.push({ epoch: version.epoch, hash: version.hash });
  }

  // ---------------------------------------------------------------- what slaves check

  /** Invariant 4: every version an op issued at `epoch` can read is still in the store. */
  checkSharedReadable(rec: OpRec, where: string): void {
    for (const [key, list] of this.sharedVersions) {
      let readable: SharedVersionRec | null = null;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i]!.epoch <= rec.epoch) {
          readable = list[i]!;
          break;
        }
      }
      if (readable && this.sim.store.blob(readable.hash) === undefined) {
        this.sim.violations.add(`op #${rec.index} (epoch ${rec.epoch}) started on ${where} but ${key}@${readable.epoch}, which it reads, was already freed`);
      }
    }
  }

  /** Versions still held beyond the newest of each key (should be 0 once every op settled). */
  get sharedLeft(): { live: number; keys: number } {
    return { live: this.sim.store.liveVersionCount, keys: this.sharedVersions.size };
  }

  // ---------------------------------------------------------------- settling (invariants 1 and 2)

  settled(rec: OpRec, how: number, outcome: unknown): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.settleCalls++;
    const seen = ++this.settleCount[rec.index]!;
    const name = `op #${rec.index}${rec.op ? ` (op ${rec.op.id})` : ""}`;
    if (seen > 1 || rec.state !== PENDING) {
      sim.violations.add(`${name} settled twice: ${["", "resolved", "rejected", "abandoned"][rec.state]}, then ${["", "resolved", "rejected", "abandoned"][how]}${how !== RESOLVED ? ` (${(outcome as Error).message})` : ""}`);
      sim.meter.resume();
      return;
    }
    rec.state = how;
    this.lastSettled = `${name} ${["", "resolved", `rejected (${(outcome as Error)?.name})`, "abandoned"][how]}${rec.op?.slave ? ` on ${rec.op.slave.host.name}` : ""}`;
    if (rec.op) this.live.delete(rec.op.id);
    this.outstanding--;
    if (how === RESOLVED) this.checkResolved(rec, name, outcome);
    else if (how === REJECTED) this.checkRejected(rec, name, outcome as Error);
    else this.checkAbandoned(name, outcome as Error);
    this.wake();
    sim.meter.resume();
  }

  private checkResolved(rec: OpRec, name: string, value: unknown): void {
    const { violations } = this.sim;
    const v = value as { index?: number; value?: number } | undefined;
    if (!v || v.index !== rec.index || v.value !== expectedValue(rec.index)) {
      violations.add(`${name} resolved with ${JSON.stringify(value)}, the result of another input`);
    }
    if (rec.hang || rec.poison) violations.add(`${name} resolved, but it ${rec.hang ? "never ends" : "crashes every slave"}`);
    if (rec.failTimes > rec.retries) violations.add(`${name} resolved, but its user code throws ${rec.failTimes} times and it has ${rec.retries} retries`);
    if (rec.throwsSeen !== rec.failTimes) violations.add(`${name} resolved after ${rec.throwsSeen} throws taken in; its code throws on the first ${rec.failTimes} runs`);
    if (rec.charges >= this.sim.options.poisonKills) violations.add(`${name} resolved, but it was charged with ${rec.charges} slave deaths (poison at ${this.sim.options.poisonKills})`);
    this.outcomes.resolved++;
    this.work += rec.size * (1 + rec.throwsSeen);
  }

  private checkRejected(rec: OpRec, name: string, error: Error): void {
    const { violations, options } = this.sim;
    const bad = (why: string) => violations.add(`${name} rejected with ${error.name}: ${error.message} — ${why}`);
    if (error instanceof SimUserError) {
      if (error.index !== rec.index) bad(`the error of op #${error.index}`);
      else if (rec.failTimes <= rec.retries) bad(`its code throws ${rec.failTimes} times and it has ${rec.retries} retries`);
      else if (rec.throwsSeen !== rec.retries + 1) bad(`after ${rec.throwsSeen} throws taken in, with ${rec.retries} retries`);
      this.outcomes.userErrors++;
      this.work += rec.size * rec.throwsSeen;
    } else if (error instanceof TimeoutError) {
      if (rec.timeoutMs === undefined) bad("it has no timeout");
      this.outcomes.timeouts++;
    } else if (error instanceof PoisonOpError) {
      if (rec.charges < options.poisonKills) bad(`only ${rec.charges} slave deaths were its own`);
      this.outcomes.poisoned++;
    } else if (error instanceof SimSlaveAbort) {
      bad("a slave's answer to a cancelled copy of the op reached the program");
    } else if (error instanceof AbortError) {
      if (!rec.cancelled) bad("main never cancelled it");
      this.outcomes.cancelled++;
    } else if (error instanceof MntError && error.code === "placement" && error.message.includes("can run on no host")) {
      // Invariant 2: no host that could hold its large values (and has its tags) is left in the run.
      if (!rec.largeInput && !rec.largeShared) bad("it holds no value too large for any host");
      else if (!this.sim.cluster.roomUnservable(rec)) bad("a host that can hold its values (with its tags) is still in the run");
      this.outcomes.placement++;
    } else if (error instanceof MntError && error.code === "placement") {
      if (!rec.tags) bad("it asks for no tags");
      else if (!this.sim.cluster.tagsUnservable(rec.tags)) bad(`a host with tags ${rec.tags.join(", ")} is still in the run`);
      this.outcomes.placement++;
    } else {
      bad("not an outcome this op can have");
    }
  }

  private checkAbandoned(name: string, error: Error): void {
    this.outcomes.abandoned++;
    if (!this.sim.closing && !this.sim.scheduler.fatalError) this.sim.violations.add(`${name} abandoned (${error.message}) while the run was going on`);
  }

  contextSettled(rec: CtxRec, how: number, error: Error | null): void {
    const { sim } = this;
    sim.meter.pause();
    sim.meter.settleCalls++;
    const name = `context op ${rec.seq}`;
    if (rec.state !== PENDING) {
      sim.violations.add(`${name} settled twice`);
      sim.meter.resume();
      return;
    }
    rec.state = how;
    this.lastSettled = `${name} ${["", "resolved", "rejected", "abandoned"][how]}`;
    this.contextsOutstanding--;
    if (how === RESOLVED) {
      if (rec.throws) sim.violations.add(`${name} resolved, but it throws on every slave`);
      if (rec.applied === 0) sim.violations.add(`${name} resolved before any slave applied it`);
    } else if (how === REJECTED) {
      if (!(error instanceof SimContextError) || error.seq !== rec.seq) sim.violations.add(`${name} rejected with ${error?.name}: ${error?.message}`);
      else if (!rec.throws) sim.violations.add(`${name} rejected, but it never throws`);
      this.outcomes.contextErrors++;
    } else {
      this.outcomes.abandoned++;
      if (!sim.closing && !sim.scheduler.fatalError) sim.violations.add(`${name} abandoned (${error?.message}) while the run was going on`);
    }
    this.wake();
    sim.meter.resume();
  }

  // ---------------------------------------------------------------- end of run

  /** Invariant 6, from main's side: what is still outstanding. */
  describeOutstanding(max = 5): string {
    const ops = [...this.live.values()].slice(0, max).map((rec) => `op #${rec.index} (op ${rec.op?.id}, state ${rec.op?.state}, on slave ${rec.op?.slave?.id ?? "-"}, tags ${rec.tags?.join("+") ?? "-"}, ctx ${rec.expectedCtx})`);
    const contexts = this.contexts.filter((c) => c.state === PENDING).slice(0, max).map((c) => `context op ${c.seq} (pending at ${[...(c.entry?.pending ?? [])].join(",")})`);
    return `${this.outstanding} worker ops and ${this.contextsOutstanding} context ops outstanding, ${this.issued}/${this.plan.ops} issued, main ${this.blockedOn === null ? "running" : this.blockedOn instanceof CtxRec ? `awaiting context op ${this.blockedOn.seq}` : `waiting (${this.blockedOn})`}: ${[...ops, ...contexts].join("; ")}`;
  }

  get settledAll(): boolean {
    return this.outstanding === 0 && this.contextsOutstanding === 0;
  }

  /** Index of an op from its payload (the slave reads its input from there). */
  static indexOf(op: WorkerOp): number {
    return new DataView(op.payload.buffer, op.payload.byteOffset, 4).getUint32(0, true);
  }
}
