import { randomInt } from 'node:crypto';

/**
 * The conversion server's anonymous UserIDs (seed 000 Fig. 13/14, table 180: "Anonymous1-100", stored on the server
 * in advance): a free one, drawn at random, is lent to a call and returned when its dialog ends. Drawn at random, not
 * the lowest or the next in turn: a name in order would tell a callee how many anonymous calls the server carries
 * (issue 17 item 4).
 */
export class AnonymousPool {
  private readonly inUse = new Set<number>();

  constructor(readonly size = 100) {
    if (!Number.isInteger(size) || size < 1 || size > 10_000) throw new RangeError(`pool size ${size} is outside 1-10000`);
  }

  /** A free `AnonymousN` drawn at random, or undefined when all are lent out. */
  take(): string | undefined {
    const free = this.size - this.inUse.size;
    if (free <= 0) return undefined;
    // the k-th free number, k uniform: every free name is equally likely whatever is lent out
    let k = randomInt(free);
    for (let n = 1; n <= this.size; n++) {
      if (this.inUse.has(n)) continue;
      if (k-- === 0) {
        this.inUse.add(n);
        return `Anonymous${n}`;
      }
    }
    return undefined;
  }

  /** Lend this very name, when it is free: the same call asking again (conversion-table.ts). */
  takeName(user: string): boolean {
    const n = Number(/^Anonymous(\d+)$/.exec(user)?.[1]);
    if (!Number.isInteger(n) || n < 1 || n > this.size || this.inUse.has(n)) return false;
    this.inUse.add(n);
    return true;
  }

  give(user: string): void {
    const n = Number(/^Anonymous(\d+)$/.exec(user)?.[1]);
    this.inUse.delete(n);
  }

  get used(): number {
    return this.inUse.size;
  }
}
