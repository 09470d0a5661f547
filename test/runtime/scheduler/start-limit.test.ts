// Start-up limits: the user's limit holds on a host of ordinary speed (a slave stuck starting there
// is caught at it), and grows on a host that has shown it starts slowly (its agent's start-up past
// an ordinary 1 s, its earlier slaves' starts), so a merely slow host is not judged hung.
import { expect } from "chai";
import {
  EARLIER_START_FACTOR,
  ORDINARY_AGENT_STARTUP_MS,
  describeStartLimit,
  helloLimitMs,
  slaveStartLimitMs,
  startTimeoutSetting,
} from "../../../core/runtime/scheduler/start-limit.ts";

describe("scheduler: start-up limits", () => {
  it("a host of ordinary speed (agent up in 150 ms, slaves ready in 400 ms) gets the user's limit, not more", () => {
    expect(slaveStartLimitMs(60_000, { agentStartupMs: 0, slowestStartMs: 0 })).to.equal(60_000);
    expect(slaveStartLimitMs(60_000, { agentStartupMs: 150, slowestStartMs: 400 })).to.equal(60_000);
    expect(slaveStartLimitMs(2000, { agentStartupMs: 300, slowestStartMs: 300 }), "a small user limit stays small there").to.equal(2000);
    expect(slaveStartLimitMs(60_000, { agentStartupMs: ORDINARY_AGENT_STARTUP_MS, slowestStartMs: 0 }), "1 s is still ordinary").to.equal(60_000);
  });

  it("a host whose agent started slowly (an emulated CPU: 3.1 s, 3.1× an ordinary 1 s) gets 3.1× the limit", () => {
    expect(ORDINARY_AGENT_STARTUP_MS).to.equal(1000);
    expect(slaveStartLimitMs(60_000, { agentStartupMs: 3100, slowestStartMs: 0 })).to.equal(186_000);
    expect(slaveStartLimitMs(2500, { agentStartupMs: 4200, slowestStartMs: 0 }), "a small user limit too").to.equal(10_500);
  });

  it("a host whose earlier slaves took long to start gives later ones (restarts, catch-up slaves) 3× the slowest", () => {
    expect(EARLIER_START_FACTOR).to.equal(3);
    expect(slaveStartLimitMs(60_000, { agentStartupMs: 1200, slowestStartMs: 41_000 })).to.equal(123_000);
    expect(slaveStartLimitMs(60_000, { agentStartupMs: 200, slowestStartMs: 20_000.4 }), "whole ms").to.equal(60_002);
    expect(slaveStartLimitMs(1000, { agentStartupMs: 0, slowestStartMs: 400.2 })).to.equal(1201);
  });

  it("an agent's hello: the user's limit first; on a reconnection, room for the start-up the host showed last time", () => {
    expect(helloLimitMs(60_000, null)).to.equal(60_000);
    expect(helloLimitMs(60_000, 180)).to.equal(60_000);
    expect(helloLimitMs(60_000, 2500)).to.equal(150_000);
  });

  it("messages name the limit that applied, and the user's own when it was raised", () => {
    expect(describeStartLimit(60_000, 60_000)).to.equal("the start-up limit of 60000 ms");
    expect(describeStartLimit(186_000, 60_000)).to.equal("the start-up limit of 186000 ms (60000 ms, raised for this host's slow start-up)");
  });

  it("the setting to raise: the CLI's flag when it says so, else the runtime option", () => {
    expect(startTimeoutSetting({ startTimeoutMs: "--start-timeout" })).to.equal("--start-timeout");
    expect(startTimeoutSetting(undefined)).to.equal("the startTimeoutMs option");
  });
});
