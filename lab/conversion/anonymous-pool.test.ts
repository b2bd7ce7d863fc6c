import { describe, expect, it } from 'vitest';
import { AnonymousPool } from './anonymous-pool.js';

describe('AnonymousPool (seed 000 table 180)', () => {
  it('lends a free name at random, so the name says nothing about how many anonymous calls went before (issue 17 item 4)', () => {
    const pool = new AnonymousPool(100);
    const lent: string[] = [];
    for (let call = 0; call < 200; call++) {
      const name = pool.take()!;
      lent.push(name);
      pool.give(name); // each call ends before the next: the lowest free name would always be Anonymous1
    }
    const numbers = lent.map((n) => Number(n.slice('Anonymous'.length)));
    expect(numbers.every((n) => n >= 1 && n <= 100)).toBe(true);
    expect(new Set(numbers).size).toBeGreaterThan(60);
    const inTurn = numbers.slice(1).filter((n, i) => n === numbers[i]! + 1).length;
    expect(inTurn).toBeLessThan(20);
  });

  it('never lends a name twice, lends every name once before it runs dry, and takes names back', () => {
    const pool = new AnonymousPool(50);
    const names = Array.from({ length: 50 }, () => pool.take());
    expect(new Set(names).size).toBe(50);
    expect(names.every((n) => n !== undefined && /^Anonymous([1-9]|[1-4]\d|50)$/.test(n))).toBe(true);
    expect(pool.take()).toBeUndefined();
    pool.give(names[17]!);
    expect(pool.take()).toBe(names[17]);
    expect(pool.used).toBe(50);
  });
});
