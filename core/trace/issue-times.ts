// When each outstanding worker op was issued, for its wait (issue → start of a run). Op ids are
// issued in order from 1, so the times live in pages of 4,096 Float64 slots indexed by id: no
// allocation per op, 8 bytes per op while a page has an op not settled, and a page is dropped once
// every op of it has settled (a million ops leave no trace of themselves behind).
const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;

interface Page {
  readonly times: Float64Array;
  /** Ops of this page issued and not yet settled. */
  live: number;
  /** Ops of this page issued so far (the page is done when all are issued and none is live). */
  issued: number;
}

export class IssueTimes {
  private readonly pages = new Map<number, Page>();

  issued(id: number, at: number): void {
    const index = id >>> PAGE_BITS;
    let page = this.pages.get(index);
    if (page === undefined) this.pages.set(index, (page = { times: new Float64Array(PAGE_SIZE), live: 0, issued: 0 }));
    page.times[id & (PAGE_SIZE - 1)] = at;
    page.live++;
    page.issued++;
  }

  /** When op `id` was issued (NaN if it is not known: settled already, or issued before observing began). */
  at(id: number): number {
    const page = this.pages.get(id >>> PAGE_BITS);
    return page === undefined ? Number.NaN : page.times[id & (PAGE_SIZE - 1)]!;
  }

  settled(id: number): void {
    const index = id >>> PAGE_BITS;
    const page = this.pages.get(index);
    if (page === undefined) return;
    page.live--;
    // Id 0 is never issued, so the first page is full one op earlier.
    const capacity = index === 0 ? PAGE_SIZE - 1 : PAGE_SIZE;
    if (page.live === 0 && page.issued === capacity) this.pages.delete(index);
  }

  /** Pages held now (for tests: memory follows the ops outstanding, not the ops issued). */
  get pageCount(): number {
    return this.pages.size;
  }
}
