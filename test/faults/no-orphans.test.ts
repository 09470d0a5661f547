// End-to-end: "no orphans". Whether the master exits, is SIGKILLed or is interrupted (Ctrl-C,
// SIGTERM, a second Ctrl-C), every agent and slave it started is gone within a few seconds.
// Each test runs the real `mnt exec` with 2 slots, waits until the slaves are where the test wants
// them, collects every descendant of the master from /proc, acts on the master pid only, then
// polls /proc until each collected process is gone (15 s: a liveness bound, not a timing claim).
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { startMnt as startLiveMnt } from "../helpers/live-mnt.ts";
import { repoRoot } from "../helpers/mnt.ts";
import { seededRandom } from "../helpers/seeded-random.ts";

const GONE_DEADLINE_MS = 15_000;
const READY_DEADLINE_MS = 15_000;
const SEEDS = [1, 2, 3];

const busy = path.join("test", "faults", "programs", "orphan-busy.ts");
const longJob = path.join("test", "faults", "programs", "orphan-long-job.ts");

// ---- /proc: descendants and their disappearance ------------------------------------------------

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  /** Start time in clock ticks since boot: tells a reused pid from the process we saw. */
  start: string;
  cmdline: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
      // gone between the two reads
    }
    return { pid, state: fields[0]!, ppid: Number(fields[1]), start: fields[19]!, cmdline };
  } catch {
    return null;
  }
}

/** Every process below `root` (children, their children, …), from one scan of /proc. */
function descendants(root: number): Proc[] {
  const byParent = new Map<number, Proc[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const proc = readProc(Number(name));
    if (!proc) continue;
    byParent.set(proc.ppid, [...(byParent.get(proc.ppid) ?? []), proc]);
  }
  const found: Proc[] = [];
  const todo = [root];
  while (todo.length > 0) {
    for (const child of byParent.get(todo.pop()!) ?? []) {
      found.push(child);
      todo.push(child.pid);
    }
  }
  return found;
}

/** Still there: same pid and start time, and not a zombie (a zombie has let go of everything). */
function stillAlive(proc: Proc): Proc | null {
  const now = readProc(proc.pid);
  return now && now.start === proc.start && now.state !== "Z" && now.state !== "X" ? now : null;
}

/** Polls until every process in `procs` is gone; returns those still alive at the deadline. */
async function waitGone(procs: Proc[], deadlineMs = GONE_DEADLINE_MS): Promise<Proc[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const alive = procs.map(stillAlive).filter((p): p is Proc => p !== null);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await sleep(100);
  }
}

function describeProcs(procs: Proc[]): string {
  return procs.map((p) => `pid ${p.pid} (state ${p.state}, parent ${p.ppid}): ${p.cmdline}`).join("\n");
}

async function expectAllGone(procs: Proc[], run: MntChild): Promise<void> {
  const survivors = await waitGone(procs);
  expect(survivors, `still running ${GONE_DEADLINE_MS / 1000} s after the master went:\n${describeProcs(survivors)}\n${run.describe()}`).to.deep.equal([]);
}

const isSlave = (p: Proc) => /agent\.cjs --slave\b/.test(p.cmdline);
const isAgent = (p: Proc) => /agent\.cjs$/.test(p.cmdline);

/** Collects the master's descendants and checks that they include its agent and both slaves. */
function collect(run: MntChild, slavePids: number[]): Proc[] {
  const procs = descendants(run.pid);
  run.procs = procs;
  const listing = `descendants of the master ${run.pid}:\n${describeProcs(procs)}\n${run.describe()}`;
  expect(procs.filter(isAgent), listing).to.have.length(1);
  expect(procs.filter(isSlave), listing).to.have.length(2);
  for (const pid of slavePids) expect(procs.map((p) => p.pid), listing).to.include(pid);
  return procs;
}

// ---- the master under test --------------------------------------------------------------------

interface MntChild {
  pid: number;
  /** Its descendants as last collected (the test's cleanup ends any it left behind). */
  procs: Proc[];
  stdout(): string;
  stderr(): string;
  /** Polls stderr + stdout until `find` returns something, failing if mnt exits first. */
  waitFor<T>(find: (output: string) => T | null | undefined, what: string): Promise<T>;
  /** The pids of `count` different slaves that printed `orphan-slave pid=<pid> <state>`. */
  waitForSlaves(count: number, state: string): Promise<number[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(name: NodeJS.Signals): void;
  describe(): string;
}

const started: Array<{ child: ChildProcess; run: MntChild }> = [];

function startMnt(args: string[]): MntChild {
  const live = startLiveMnt(["exec", ...args]);
  const { child } = live;
  let done = false;
  const exited = live.exited.then(({ code, signal }) => {
    done = true;
    return { code, signal };
  });
  const run: MntChild = {
    pid: child.pid!,
    procs: [],
    stdout: live.stdout,
    stderr: live.stderr,
    exited,
    signal: (name) => void child.kill(name),
    describe: () => `mnt exec ${args.join(" ")} (pid ${child.pid})\n--- stdout ---\n${live.stdout().slice(-3000)}\n--- stderr ---\n${live.stderr().slice(-3000)}`,
    async waitFor(find, what) {
      const deadline = Date.now() + READY_DEADLINE_MS;
      for (;;) {
        const found = find(`${live.stderr()}\n${live.stdout()}`);
        if (found !== null && found !== undefined) return found;
        if (done) throw new Error(`mnt exited before ${what}\n${run.describe()}`);
        if (Date.now() > deadline) throw new Error(`no sign of ${what} within ${READY_DEADLINE_MS / 1000} s\n${run.describe()}`);
        await sleep(25);
      }
    },
    waitForSlaves(count, state) {
      const pattern = new RegExp(`orphan-slave pid=(\\d+) ${state}`, "g");
      return run.waitFor((output) => {
        const pids = [...new Set([...output.matchAll(pattern)].map((m) => Number(m[1])))];
        return pids.length >= count ? pids : null;
      }, `${count} slaves ${state}`);
    },
  };
  started.push({ child, run });
  return run;
}

const SUMMARY = /^mnt: stopped after (\d+(?:\.\d+)?) s: (\d+) worker ops had finished, (\d+) did not run to the end \(([^)]*)\)/m;

// ---- the tests ------------------------------------------------------------------------------------

describe("no orphans: every agent and slave is gone when the master goes", function () {
  this.timeout(30_000);

  before(function () {
    if (process.platform !== "linux" || !existsSync("/proc/self/stat")) {
      throw new Error(`these tests read /proc to find the master's processes: run them on Linux (this is ${process.platform})`);
    }
    for (const file of ["dist/cli.js", "dist/agent.cjs"]) {
      if (!existsSync(path.join(repoRoot, file))) throw new Error(`${file} is missing: run \`npm ci && npm run build\` in ${repoRoot}`);
    }
  });

  // A failed test must not leave its processes behind for the next one: end what it started, by pid.
  afterEach(() => {
    for (const { child, run } of started.splice(0)) {
      const procs = [...run.procs, ...descendants(run.pid)];
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const proc of procs) if (stillAlive(proc)) process.kill(proc.pid, "SIGKILL");
    }
  });

  describe("the master is SIGKILLed", () => {
    const cases = [
      { mode: "idle", what: "idle between ops", ready: (run: MntChild) => run.waitFor((out) => out.match(/orphan-master slaves idle: pids=(\d+),(\d+)/)?.map(Number).slice(1), "both slaves idle") },
      { mode: "spin", what: "inside `for (;;) {}` in an op", ready: (run: MntChild) => run.waitForSlaves(2, "spinning") },
      { mode: "sleep", what: "awaiting a 10-minute sleep in an op", ready: (run: MntChild) => run.waitForSlaves(2, "sleeping") },
    ];
    for (const { mode, what, ready } of cases) {
      for (const seed of SEEDS) {
        const pause = Math.round(seededRandom(seed)() * 500);
        it(`slaves ${what}: agent and slaves gone (seed ${seed}: SIGKILL ${pause} ms after they got there)`, async () => {
          const run = startMnt([busy, "--slots", "2", "--", mode]);
          const slavePids = await ready(run);
          await sleep(pause);
          const procs = collect(run, slavePids);
          run.signal("SIGKILL");
          const { signal } = await run.exited;
          await expectAllGone(procs, run);
          expect(signal, run.describe()).to.equal("SIGKILL");
        });
      }
    }
  });

  describe("the master is interrupted during a long m.map: graceful stop, a summary, its exit code", () => {
    const signals = [
      { name: "SIGINT" as const, label: "Ctrl-C (SIGINT)", exitCode: 130 },
      { name: "SIGTERM" as const, label: "SIGTERM", exitCode: 143 },
    ];
    for (const { name, label, exitCode } of signals) {
      for (const seed of SEEDS) {
        // Odd seeds: many tiny synchronous ops (deep pipelines); even seeds: ops that await a timer.
        const work = seed % 2 === 1 ? "crunch" : "nap";
        const pause = Math.round(seededRandom(seed)() * 500);
        const job = work === "nap" ? "10000 ops of a 50 ms sleep" : "200000 ops of small synchronous work";
        it(`${label}: exits ${exitCode}, says what finished, leaves no process (seed ${seed}: ${job}, signal ${pause} ms after the first results)`, async () => {
          const run = startMnt([longJob, "--slots", "2", "--json", "--", work, work === "nap" ? "10000" : "200000"]);
          const slavePids = await run.waitForSlaves(2, "working");
          await run.waitFor((out) => out.match(/orphan-progress done=\d+/), "the first results");
          await sleep(pause);
          const procs = collect(run, slavePids);
          run.signal(name);
          const { code, signal } = await run.exited;
          await expectAllGone(procs, run);
          expect({ code, signal }, run.describe()).to.deep.equal({ code: exitCode, signal: null });

          const summary = run.stderr().match(SUMMARY);
          expect(summary, `no interruption summary on stderr\n${run.describe()}`).to.not.equal(null);
          const [, , finished, unfinished, detail] = summary!;
          expect(Number(finished), summary![0]).to.be.greaterThan(0);
          expect(Number(unfinished), summary![0]).to.be.greaterThan(0);
          expect(detail).to.match(/^\d+ running, \d+ queued$/);
          expect(run.stderr()).not.to.include("orphan-long-job: all");

          const lines = run.stdout().split("\n").filter((line) => line !== "");
          expect(lines, `stdout should hold one JSON object\n${run.describe()}`).to.have.length(1);
          const json = JSON.parse(lines[0]!) as { ok: boolean; status: string; exitCode: number; ops: { worker: number } };
          expect(json).to.include({ ok: false, status: "interrupted", exitCode });
          expect(json.ops.worker, lines[0]).to.equal(Number(finished));
        });
      }
    }
  });

  it("a second Ctrl-C while the stop waits for slaves stuck in `for (;;) {}`: exits 130 at once, leaves no process", async () => {
    const run = startMnt([busy, "--slots", "2", "--", "spin"]);
    const slavePids = await run.waitForSlaves(2, "spinning");
    const procs = collect(run, slavePids);
    run.signal("SIGINT");
    await run.waitFor((out) => out.match(/^\[mnt\] interrupted: stopping the run/m), "the graceful stop starting");
    run.signal("SIGINT");
    const { code, signal } = await run.exited;
    await expectAllGone(procs, run);
    expect({ code, signal }, run.describe()).to.deep.equal({ code: 130, signal: null });
    expect(run.stderr(), run.describe()).to.match(/^mnt: SIGINT again: exiting now$/m);
    // It did not wait for the graceful stop to end (that would have printed the summary).
    expect(run.stderr(), run.describe()).not.to.match(SUMMARY);
  });

  // Ops main issued without awaiting them are still the program's work: mnt waits for them.
  describe("main ends while ops it did not await spin synchronously", () => {
    it("main returns 7 while they spin for 1.5 s: they finish, mnt exits 7, leaves no process", async () => {
      const run = startMnt([busy, "--slots", "2", "--json", "--", "unawaited", "1500"]);
      const slavePids = await run.waitForSlaves(2, "spinning for 1500 ms");
      const procs = collect(run, slavePids);
      const { code, signal } = await run.exited;
      await expectAllGone(procs, run);
      expect({ code, signal }, run.describe()).to.deep.equal({ code: 7, signal: null });
      // With --json, main's console.log shares stderr with the slaves' lines, in order of arrival.
      const stderr = run.stderr();
      expect(stderr.indexOf("orphan-master main returns 7"), run.describe()).to.be.greaterThan(-1);
      expect(stderr.indexOf("orphan-master main returns 7"), "main returned before the ops finished").to.be.lessThan(stderr.indexOf("done spinning"));
      expect(stderr.match(/orphan-slave pid=\d+ done spinning/g) ?? [], run.describe()).to.have.length(4);
      expect(JSON.parse(run.stdout())).to.include({ status: "ok", exitCode: 7 });
    });

    it("they spin forever, Ctrl-C after main returned: exits 130 with the summary, leaves no process", async () => {
      const run = startMnt([busy, "--slots", "2", "--", "unawaited-forever"]);
      const slavePids = await run.waitForSlaves(2, "spinning");
      await run.waitFor((out) => out.match(/orphan-master main returns 7/), "main returning");
      const procs = collect(run, slavePids);
      run.signal("SIGINT");
      const { code, signal } = await run.exited;
      await expectAllGone(procs, run);
      expect({ code, signal }, run.describe()).to.deep.equal({ code: 130, signal: null });
      expect(run.stderr(), run.describe()).to.match(SUMMARY);
    });

    it("they spin forever and main throws: exits 70 naming the error, leaves no process", async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "mnt-orphans-"));
      try {
        const trigger = path.join(dir, "throw-now");
        const run = startMnt([busy, "--slots", "2", "--", "unawaited-then-throw", trigger]);
        const slavePids = await run.waitForSlaves(2, "spinning");
        const procs = collect(run, slavePids);
        writeFileSync(trigger, "");
        const { code, signal } = await run.exited;
        await expectAllGone(procs, run);
        expect({ code, signal }, run.describe()).to.deep.equal({ code: 70, signal: null });
        expect(run.stderr(), run.describe()).to.match(/^mnt: the program threw: Error: orphan-busy: main gives up$/m);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
