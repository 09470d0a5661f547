// The agent's watchdogs, fed the time: a slave whose lifeline went silent is marked for killing once;
// a master silent past its timeout ends the agent; a late check (the agent itself was frozen) blames
// no one.
import { expect } from "chai";
import { LifelineWatch, MasterWatch, type WatchedSlave } from "../../remote-agent/watchdogs.ts";

const slave = (lastBeat: number, extra: Partial<WatchedSlave> = {}): WatchedSlave => ({ lastBeat, exited: false, killReason: null, ...extra });

describe("agent: watchdogs", () => {
  describe("lifelines", () => {
    it("a slave silent for longer than the timeout is marked, with the reason the master will hear; others are not", () => {
      const watch = new LifelineWatch(5000, 0);
      const quiet = slave(0);
      const beating = slave(4000);
      expect(watch.check(2000, [quiet, beating])).to.deep.equal([]);
      expect(watch.check(4000, [quiet, beating])).to.deep.equal([]);
      expect(watch.check(5001, [quiet, beating])).to.deep.equal([quiet]);
      expect(quiet.killReason).to.equal("no heartbeat for 5001 ms (stopped, frozen or hung); the agent killed it");
      expect(beating.killReason).to.equal(null);
    });

    it("exactly the timeout is not yet silent; a slave is marked once; exited or already doomed slaves are skipped", () => {
      const watch = new LifelineWatch(5000, 0);
      const a = slave(0);
      expect(watch.check(2000, [a])).to.deep.equal([]);
      expect(watch.check(4000, [a])).to.deep.equal([]);
      expect(watch.check(5000, [a])).to.deep.equal([]);
      expect(watch.check(6000, [a])).to.deep.equal([a]);
      expect(watch.check(7000, [a]), "not twice").to.deep.equal([]);
      expect(watch.check(8000, [slave(0, { exited: true }), slave(0, { killReason: "corrupt channel" })])).to.deep.equal([]);
    });

    it("a slave that has not beaten yet (still starting) gets 6× the timeout before it is killed, with its own reason", () => {
      const watch = new LifelineWatch(5000, 0);
      const starting = slave(0, { starting: true });
      const silent = slave(0);
      for (let now = 2000; now <= 30_000; now += 2000) {
        const killed = watch.check(now, [starting, silent]);
        expect(killed, `at ${now}`).to.deep.equal(now === 6000 ? [silent] : []);
      }
      expect(watch.check(32_000, [starting])).to.deep.equal([starting]);
      expect(starting.killReason).to.equal("no heartbeat in the 32000 ms since it was started (stuck starting); the agent killed it");
    });

    it("a check that comes late (the agent was frozen) restarts every slave's clock instead of killing them", () => {
      const watch = new LifelineWatch(5000, 0);
      const a = slave(0);
      // Nothing checked for 10 s: the agent itself was stopped, the beats wait unread in the pipes.
      expect(watch.check(10_000, [a])).to.deep.equal([]);
      expect(a.lastBeat).to.equal(10_000);
      expect(watch.check(12_000, [a])).to.deep.equal([]);
    });
  });

  describe("the master", () => {
    it("silent for longer than the timeout: says for how long; heard from: not", () => {
      const watch = new MasterWatch(0);
      watch.start(60_000, 0);
      for (let now = 1000; now <= 60_000; now += 1000) expect(watch.check(now), `at ${now}`).to.equal(null);
      expect(watch.check(61_000)).to.equal(61_000);
      watch.heard(61_500);
      expect(watch.check(62_000)).to.equal(null);
    });

    it("a late check (the agent was frozen) does not count the time against the master", () => {
      const watch = new MasterWatch(0);
      watch.start(60_000, 0);
      expect(watch.check(90_000)).to.equal(null);
      expect(watch.check(91_000)).to.equal(null);
    });

    it("before Config (no timeout yet) it never fires", () => {
      const watch = new MasterWatch(0);
      expect(watch.check(10 ** 9)).to.equal(null);
    });
  });
});
