import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as RandomToken from './random-token.js';

/** A fresh module, its pool empty. */
async function fresh(): Promise<typeof RandomToken> {
  vi.resetModules();
  return import('./random-token.js');
}

const symbols = 'abcdefghijklmnopqrstuvwxyz234567';

describe('randomToken', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives tokens of the asked length over its 32 symbols, a branch with the RFC 3261 §8.1.1.7 cookie', async () => {
    const { newBranch, randomToken } = await fresh();
    for (const length of [1, 10, 16, 20, 33]) expect(randomToken(length)).toMatch(new RegExp(`^[a-z2-7]{${length}}$`));
    expect(newBranch()).toMatch(/^z9hG4bK[a-z2-7]{20}$/);
    const many = new Set(Array.from({ length: 10_000 }, () => randomToken(10)));
    expect(many.size).toBe(10_000);
  });

  it('draws the platform CSPRNG once per 4 KB, hands out every byte once and wipes what it handed out', async () => {
    const { randomToken } = await fresh();
    const draws: Uint8Array[] = [];
    let next = 0;
    // the bytes count up, so a token shows which bytes of which draw it was made of (every draw fills the one pool)
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      const bytes = array as unknown as Uint8Array;
      for (let i = 0; i < bytes.length; i++) bytes[i] = next++ % 32;
      draws.push(bytes);
      return array;
    });
    const tokens = Array.from({ length: 2000 }, () => randomToken(20));
    const perDraw = Math.floor(4096 / 20); // 204 tokens; the tail of 16 bytes is not used
    expect(draws).toHaveLength(Math.ceil(2000 / perDraw));
    tokens.forEach((token, i) => {
      const start = Math.floor(i / perDraw) * 4096 + (i % perDraw) * 20; // its first byte in the sequence drawn
      const expected = Array.from({ length: 20 }, (_, k) => symbols[(start + k) % 32]).join('');
      expect(token).toBe(expected);
    });
    const last = draws.at(-1)!;
    const used = (2000 % perDraw) * 20;
    expect(last.subarray(0, used).every((byte) => byte === 0)).toBe(true);
    expect(last.subarray(used).some((byte) => byte !== 0)).toBe(true); // what is not handed out yet stays
  });

  it('refuses a length that is not a whole number of bytes, and the next token is as random as ever', async () => {
    const { randomToken } = await fresh();
    randomToken(20);
    for (const bad of [-100, Number.NaN, 2.5, Number.POSITIVE_INFINITY]) expect(() => randomToken(bad)).toThrow(RangeError);
    expect(randomToken(0)).toBe('');
    const next = Array.from({ length: 300 }, () => randomToken(20));
    expect(next.every((token) => /^[a-z2-7]{20}$/.test(token))).toBe(true);
    expect(new Set(next).size).toBe(300);
  });

  it('draws a token longer than the pool on its own', async () => {
    const { randomToken } = await fresh();
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    expect(randomToken(5000)).toMatch(/^[a-z2-7]{5000}$/);
    expect(spy.mock.calls.map(([array]) => (array as Uint8Array).length)).toEqual([5000]);
  });
});
