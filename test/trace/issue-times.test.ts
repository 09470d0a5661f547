import { expect } from "chai";
import { IssueTimes } from "../../core/trace/issue-times.ts";

describe("IssueTimes (the issue time of each outstanding op)", () => {
  it("gives back each op's time until it settles, and holds pages only for ops not settled", () => {
    const times = new IssueTimes();
    for (let id = 1; id <= 10_000; id++) times.issued(id, id / 10);
    expect(times.at(1)).to.equal(0.1);
    expect(times.at(9_999)).to.equal(999.9);
    expect(times.pageCount).to.equal(3); // ids 1–4095, 4096–8191, 8192–10000
    for (let id = 1; id <= 8_191; id++) times.settled(id);
    expect(times.pageCount, "the two full pages are dropped").to.equal(1);
    expect(times.at(5)).to.be.NaN;
    expect(times.at(8_192)).to.equal(819.2);
  });

  it("keeps a page while one op of it is outstanding, however many later ops come and go", () => {
    const times = new IssueTimes();
    for (let id = 1; id <= 20_000; id++) {
      times.issued(id, id);
      if (id !== 7) times.settled(id);
    }
    expect(times.at(7)).to.equal(7);
    expect(times.pageCount, "the page of op 7, and the page being filled").to.equal(2);
    times.settled(7);
    expect(times.pageCount).to.equal(1);
  });
});
