/**
 * The conversion server's anonymous UserIDs (seed 000 Fig. 13/14, table 180: "Anonymous1-100", stored on the server
 * in advance): the lowest free one is lent to a call and returned when its dialog ends.
 */
export class AnonymousPool {
  private readonly inUse = new Set<number>();

  constructor(readonly size = 100) {
    if (!Number.isInteger(size) || size < 1 || size > 10_000) throw new RangeError(`pool size ${size} is outside 1-10000`);
  }

  /** The next free `AnonymousN`, or undefined when all are lent out. */
  take(): string | undefined {
    for (let n = 1; n <= this.size; n++) {
      if (!this.inUse.has(n)) {
        this.inUse.add(n);
        return `Anonymous${n}`;
      }
    }
    return undefined;
  }

  give(user: string): void {
    const n = Number(/^Anonymous(\d+)$/.exec(user)?.[1]);
    this.inUse.delete(n);
  }

  get used(): number {
    return this.inUse.size;
  }
}
