/**
 * Branches seen lately, kept for at least `keepMs` and at most twice that (and at most `limit` per generation):
 * two generations, the old one dropped whole when the young one has aged `keepMs` or filled up. Nothing is deleted
 * entry by entry, so remembering a branch costs the same however long the proxy has run.
 */
export class RecentBranches {
  private young = new Set<string>();
  private old = new Set<string>();
  private youngSince: number;

  constructor(
    private readonly now: () => number,
    private readonly keepMs: number,
    private readonly limit = 50_000,
  ) {
    this.youngSince = now();
  }

  add(branch: string): void {
    const now = this.now();
    if (now - this.youngSince >= this.keepMs || this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Set();
      this.youngSince = now;
    }
    this.young.add(branch);
  }

  has(branch: string): boolean {
    return this.young.has(branch) || this.old.has(branch);
  }
}
