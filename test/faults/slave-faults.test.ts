// Fault injection on a real local cluster: slaves and agents are killed, stopped and crashed with
// real signals while a job runs. Every test asserts on the results the program gets: complete,
// correct, each exactly once. Each runs for several seeds (FAULT_SEEDS=… replays chosen ones).
import { expect } from "chai";
import { PoisonOpError } from "../../core/runtime/recovery.ts";
import { TimeoutError } from "../../core/errors.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../helpers/wait.ts";
import { faultSeeds, isAlive, seededRandom, startCluster, type Cluster } from "./harness.ts";

/** Kills `count` random live slaves with SIGKILL, one every 10–40 ms; resolves with the pids killed. */
async function killRandomSlaves(cluster: Cluster, random: () => number, count: number): Promise<number[]> {
  const killed: number[] = [];
  while (killed.length < count) {
    await sleep(10 + random() * 30);
    const pids = cluster.liveSlavePids().filter((pid) => !killed.includes(pid));
    if (pids.length === 0) continue;
    const pid = pids[Math.floor(random() * pids.length)]!;
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // It died on its own an instant ago: not one of our kills.
    }
  }
  return killed;
}

/** Results of `square` for inputs 0..n-1, checked: each index once, each value right. */
function expectSquares(results: Array<{ index: number; value: { i: number; square: number } }>, n: number): void {
  const count = new Array<number>(n).fill(0);
  for (const { index, value } of results) {
    expect(value.i, `result ${index} answers input ${value.i}`).to.equal(index);
    expect(value.square, `square of ${index}`).to.equal(index * index);
    count[index]!++;
  }
  const missing = count.flatMap((c, i) => (c === 0 ? [i] : []));
  const duplicated = count.flatMap((c, i) => (c > 1 ? [i] : []));
  expect(missing, "inputs with no result").to.deep.equal([]);
  expect(duplicated, "inputs with more than one result").to.deep.equal([]);
  expect(results).to.have.length(n);
}

describe("faults: slaves and agents die, results are never lost", function () {
  this.timeout(120_000);

  describe("random SIGKILL of slaves during a 10,000-op job", () => {
    const OPS = 10_000;
    const KILLS = 25;
    // Totals over the seeds, printed at the end: the figures docs/RELIABILITY.md quotes.
    const total = { runs: 0, kills: 0, results: 0, rerun: 0 };
    after(() => {
      if (total.runs > 0) console.log(`      ${total.runs} runs: ${total.kills} slaves killed, ${total.rerun} op runs repeated, ${total.results} results, 0 lost, 0 duplicated`);
    });
    for (const seed of faultSeeds(20)) {
      it(`seed ${seed}: ${KILLS} kills on 3 slaves, all ${OPS} results correct, none lost or duplicated`, async () => {
        const random = seededRandom(seed);
        const cluster = await startCluster(3);
        try {
          const killer = killRandomSlaves(cluster, random, KILLS);
          // Half the inputs wait for the last kill, so every kill lands while the job runs.
          async function* inputs() {
            for (let i = 0; i < OPS; i++) {
              if (i === OPS / 2) await killer;
              yield { i, workMicros: 150 };
            }
          }
          const results = [];
          for await (const result of cluster.m.map("square", inputs())) results.push(result);
          expectSquares(results, OPS);
          const killed = await killer;
          expect(killed).to.have.length(KILLS);
          await waitFor(() => cluster.runtime.stats().slavesLost >= KILLS, 10_000, `${KILLS} slaves lost`);
          const stats = cluster.runtime.stats();
          expect(stats.slavesLost, "every kill was noticed as a lost slave").to.equal(KILLS);
          expect(stats.workerDone).to.equal(OPS);
          expect(stats.workerFailed).to.equal(0);
          // The host was not set aside and its slots are all back.
          await waitFor(() => cluster.runtime.stats().slaves === 3, 10_000, "3 slaves back");
          for (const pid of killed) expect(isAlive(pid), `killed slave ${pid}`).to.equal(false);
          total.runs++;
          total.kills += killed.length;
          total.results += results.length;
          total.rerun += stats.workerRerun;
        } finally {
          await cluster.stop();
        }
      });
    }
  });

  describe("a context op issued while slaves are being killed", () => {
    const OPS = 3000;
    const EVERY = 100;
    for (const seed of faultSeeds(5)) {
      it(`seed ${seed}: every result saw exactly the context ops issued before it, replayed in order`, async () => {
        const random = seededRandom(seed);
        const cluster = await startCluster(3);
        try {
          const killer = killRandomSlaves(cluster, random, 12);
          const pending: Array<Promise<{ i: number; square: number; version: number; history: string }>> = [];
          const contextOps: Array<Promise<void>> = [];
          for (let i = 0; i < OPS; i++) {
            if (i > 0 && i % EVERY === 0) {
              contextOps.push(cluster.m.context.setVersion(i / EVERY));
              // Spread the job over the kills; the last part waits for the last kill.
              await (i === OPS - 10 * EVERY ? killer : sleep(random() * 15));
            }
            pending.push(cluster.m.worker.square({ i, workMicros: 100 }));
          }
          const results = await Promise.all(pending);
          await Promise.all(contextOps);
          results.forEach((result, i) => {
            const version = Math.floor(i / EVERY);
            expect(result.i).to.equal(i);
            expect(result.version, `op ${i} ran under context version`).to.equal(version);
            expect(result.history, `op ${i}: context ops applied by its slave`).to.equal(Array.from({ length: version }, (_, k) => k + 1).join(","));
          });
          expect(await killer).to.have.length(12);
          // The last kill may still be on its way to the master when the last result arrives.
          await waitFor(() => cluster.runtime.stats().slavesLost >= 12, 10_000, "12 slaves lost");
          expect(cluster.runtime.stats().slavesLost).to.equal(12);
        } finally {
          await cluster.stop();
        }
      });
    }
  });

  describe("SIGKILL of the whole agent", () => {
    for (const seed of faultSeeds(5)) {
      it(`seed ${seed}: the agent is restarted, the job completes, the old agent's slaves are gone`, async () => {
        const random = seededRandom(seed);
        const cluster = await startCluster(2);
        try {
          const OPS = 4000;
          // Killed once some results came back, so both agents demonstrably did work.
          const killAfter = 200 + Math.floor(random() * 2000);
          let oldSlaves: number[] = [];
          let killed = false;
          async function* inputs() {
            for (let i = 0; i < OPS; i++) {
              if (!killed && cluster.runtime.stats().workerDone >= killAfter) {
                killed = true;
                oldSlaves = cluster.liveSlavePids();
                process.kill(cluster.agentPids[0]!, "SIGKILL");
              }
              yield { i, workMicros: 200 };
            }
          }
          const results = [];
          for await (const result of cluster.m.map("square", inputs())) results.push(result);
          expectSquares(results, OPS);
          expect(cluster.agentPids, "a second agent was started").to.have.length(2);
          expect(cluster.events.filter((e) => e.kind === "agent.lost")).to.have.length(1);
          expect(oldSlaves).to.have.length(2);
          const pids = new Set(results.map((r) => r.value.pid));
          expect([...pids].some((pid) => oldSlaves.includes(pid)), "some ops ran on the first agent's slaves").to.equal(true);
          expect([...pids].some((pid) => !oldSlaves.includes(pid)), "some ops ran on the new agent's slaves").to.equal(true);
          // Orphaned slaves notice their agent is gone (lifeline) and exit.
          await waitFor(() => oldSlaves.every((pid) => !isAlive(pid)), 10_000, `the old slaves ${oldSlaves.join(", ")} to exit`);
        } finally {
          await cluster.stop();
        }
      });
    }
  });

  describe("SIGSTOP (hang detection by heartbeat)", () => {
    for (const seed of faultSeeds(5)) {
      it(`seed ${seed}: a stopped slave is declared lost, killed and replaced; the job completes`, async () => {
        const random = seededRandom(seed);
        const cluster = await startCluster(2, { slaveHeartbeatMs: 100, slaveTimeoutMs: 1000 });
        try {
          const OPS = 3000;
          const stopAt = 300 + Math.floor(random() * 1500);
          let stopped = 0;
          async function* inputs() {
            for (let i = 0; i < OPS; i++) {
              if (i === stopAt) {
                const pids = cluster.liveSlavePids();
                stopped = pids[Math.floor(random() * pids.length)]!;
                process.kill(stopped, "SIGSTOP");
              }
              yield { i, workMicros: 200 };
            }
          }
          const results = [];
          for await (const result of cluster.m.map("square", inputs())) results.push(result);
          expectSquares(results, OPS);
          const lost = cluster.events.filter((e) => e.kind === "slave.lost");
          expect(lost, "one slave lost").to.have.length(1);
          expect(lost[0]).to.have.property("reason").that.matches(/no heartbeat for \d+ ms \(stopped, frozen or hung\)/);
          await waitFor(() => !isAlive(stopped), 10_000, `the stopped slave ${stopped} to be killed`);
        } finally {
          await cluster.stop();
        }
      });
    }

    it("a stopped agent is declared lost after its heartbeat timeout, replaced, and killed", async () => {
      const cluster = await startCluster(2, { heartbeatMs: 200, heartbeatTimeoutMs: 1500 });
      try {
        const OPS = 3000;
        let stoppedAgent = 0;
        let itsSlaves: number[] = [];
        async function* inputs() {
          for (let i = 0; i < OPS; i++) {
            if (i === 1000) {
              stoppedAgent = cluster.agentPids[0]!;
              itsSlaves = cluster.liveSlavePids();
              process.kill(stoppedAgent, "SIGSTOP");
            }
            yield { i, workMicros: 200 };
          }
        }
        const results = [];
        for await (const result of cluster.m.map("square", inputs())) results.push(result);
        expectSquares(results, OPS);
        const lost = cluster.events.find((e) => e.kind === "agent.lost");
        expect(lost).to.have.property("reason").that.matches(/no heartbeat from the agent/);
        expect(cluster.agentPids).to.have.length(2);
        await waitFor(() => [stoppedAgent, ...itsSlaves].every((pid) => !isAlive(pid)), 10_000, "the stopped agent and its slaves to be gone");
      } finally {
        await cluster.stop();
      }
    });
  });

  describe("poison ops", () => {
    for (const seed of faultSeeds(5)) {
      it(`seed ${seed}: an op that kills its slave fails after 3 deaths, naming the op, its input, the signal and stderr; the others succeed`, async () => {
        const random = seededRandom(seed);
        const cluster = await startCluster(2);
        try {
          const OPS = 300;
          const bad = Math.floor(random() * OPS);
          const settled = await Promise.allSettled(Array.from({ length: OPS }, (_, i) => cluster.m.worker.crashOn({ i, crash: i === bad })));
          settled.forEach((outcome, i) => {
            if (i === bad) return;
            expect(outcome, `op ${i}`).to.deep.equal({ status: "fulfilled", value: i });
          });
          const poisoned = settled[bad]!;
          expect(poisoned.status).to.equal("rejected");
          const error = (poisoned as PromiseRejectedResult).reason as PoisonOpError;
          expect(error).to.be.instanceOf(PoisonOpError);
          expect(error.deaths).to.have.length(3);
          expect(error.message).to.include(`crashOn (op ${bad + 1}, input { i: ${bad}, crash: true }) killed 3 slaves`);
          expect(error.message).to.match(/local:\d killed by SIGSEGV; last stderr: crashOn: input \d+ is the bad one, crashing/);
          const stats = cluster.runtime.stats();
          expect(stats.workerPoisoned).to.equal(1);
          expect(stats.slavesLost).to.equal(3);
          // The host is not set aside: its slots come back and take new work.
          await waitFor(() => cluster.runtime.stats().slaves === 2, 10_000, "2 slaves back");
          expect(await cluster.m.worker.crashOn({ i: 7, crash: false })).to.equal(7);
        } finally {
          await cluster.stop();
        }
      });
    }

    it("an op stuck in a synchronous loop past its timeout: rejects with TimeoutError, its slave is killed and replaced", async () => {
      const cluster = await startCluster(2, { hangGraceMs: 500 });
      try {
        const stuck = cluster.m.worker.spin(-1, { timeout: 300 });
        const others = Array.from({ length: 200 }, (_, i) => cluster.m.worker.square({ i, workMicros: 100 }));
        const error = await stuck.then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(TimeoutError);
        expect((error as Error).message).to.equal("spin (op 1) got no result within 300 ms");
        const results = await Promise.all(others);
        results.forEach((r, i) => expect(r.square).to.equal(i * i));
        await waitFor(() => cluster.events.some((e) => e.kind === "slave.lost"), 10_000, "the stuck slave to be replaced");
        const lost = cluster.events.filter((e) => e.kind === "slave.lost");
        expect(lost).to.have.length(1);
        expect(lost[0]).to.have.property("reason", "killed by the master: spin (op 1) was still running 500 ms after it was timed out");
        await waitFor(() => cluster.runtime.stats().slaves === 2, 10_000, "2 slaves back");
      } finally {
        await cluster.stop();
      }
    });

    it("a user exception is not a failure: it rejects at once, kills nothing, and retries only when asked", async () => {
      const cluster = await startCluster(2);
      try {
        const error = await cluster.m.worker.fail("bad input 42").then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect(error?.message).to.equal("bad input 42");
        expect(cluster.runtime.stats().workerRetried).to.equal(0);
        await cluster.m.worker.fail("again", { retries: 2 }).catch(() => {});
        const stats = cluster.runtime.stats();
        expect(stats.workerRetried, "retries: 2 re-ran it twice").to.equal(2);
        expect(stats.slavesLost).to.equal(0);
        expect(stats.workerPoisoned).to.equal(0);
      } finally {
        await cluster.stop();
      }
    });
  });
});
