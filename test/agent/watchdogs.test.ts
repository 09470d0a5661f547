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

    it("a slave still starting is judged by its start-up limit from its spawn, not by the heartbeat timeout", () => {
      const watch = new LifelineWatch(5000, 0);
      // Node.js still loading on a slow host: no beat yet, for far longer than the heartbeat timeout.
      const slow = slave(0, { starting: { since: 0, limitMs: 60_000 } });
      // Its lifeline beats but the program never gets ready (an init that never settles).
      const stuck = slave(0, { starting: { since: 0, limitMs: 60_000 } });
      const running = slave(0);
      for (let now = 500; now <= 60_000; now += 500) {
        stuck.lastBeat = now;
        const killed = watch.check(now, [slow, stuck, running]);
        expect(killed, `at ${now}`).to.deep.equal(now === 5500 ? [running] : []);
      }
      expect(watch.check(60_500, [slow, stuck])).to.deep.equal([slow, stuck]);
      expect(slow.killReason).to.equal("still starting after 60500 ms, past its start-up limit of 60000 ms; the agent killed it");
      expect(stuck.killReason).to.equal(slow.killReason);
    });

    it("each starting slave has its own limit (the master raises it on a host that starts slowly); a small one catches a stuck start early", () => {
      const watch = new LifelineWatch(5000, 0);
      const onFastHost = slave(1000, { starting: { since: 1000, limitMs: 2000 } });
      const raised = slave(1000, { starting: { since: 1000, limitMs: 93_000 } });
      for (let now = 1500; now <= 3000; now += 500) expect(watch.check(now, [onFastHost, raised]), `at ${now}`).to.deep.equal([]);
      expect(watch.check(3500, [onFastHost, raised])).to.deep.equal([onFastHost]);
      expect(onFastHost.killReason).to.equal("still starting after 2500 ms, past its start-up limit of 2000 ms; the agent killed it");
      for (let now = 4000; now <= 94_000; now += 500) expect(watch.check(now, [raised]), `at ${now}`).to.deep.equal([]);
      expect(watch.check(94_500, [raised])).to.deep.equal([raised]);
    });

    it("once ready it has to keep beating: the heartbeat timeout applies from then on", () => {
      const watch = new LifelineWatch(5000, 0);
      const a = slave(0, { starting: { since: 0, limitMs: 60_000 } });
      for (let now = 500; now <= 20_000; now += 500) expect(watch.check(now, [a])).to.deep.equal([]);
      // SlaveProcess.started(): ready at 20 s, and the frame counts as a beat.
      a.starting = null;
      a.lastBeat = 20_000;
      for (let now = 20_500; now <= 25_000; now += 500) expect(watch.check(now, [a]), `at ${now}`).to.deep.equal([]);
      expect(watch.check(25_500, [a])).to.deep.equal([a]);
      expect(a.killReason).to.equal("no heartbeat for 5500 ms (stopped, frozen or hung); the agent killed it");
    });

    it("a late check (the agent itself was frozen) kills no starting slave: its ready frame may be waiting unread", () => {
      const watch = new LifelineWatch(5000, 0);
      const a = slave(0, { starting: { since: 0, limitMs: 2000 } });
      expect(watch.check(10_000, [a])).to.deep.equal([]);
      expect(watch.check(10_500, [a]), "judged at the next check in time").to.deep.equal([a]);
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
