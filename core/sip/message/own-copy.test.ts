import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../test/support/collect-garbage.js';
import { ownCopy } from './own-copy.js';

describe('ownCopy', () => {
  it('copies the text exactly (lone surrogates too) and lets the message it was cut from go', () => {
    for (const text of ['', 'a', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'é€😀', 'a\ud800b']) expect(ownCopy(text)).toBe(text);
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    for (let i = 0; i < 40; i++) {
      const message = `${String(i).padStart(8, '0')}${'x'.repeat(1 << 20)}${i}`; // 1 MB each, all different
      kept.push(ownCopy(message.slice(3, 200)), ownCopy(message.slice(3, 8)));
    }
    collectGarbage();
    // the 40 messages (40 MB) are gone: what is kept is 80 short copies
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
    expect(kept.join('').length).toBe(40 * (197 + 5));
  });
});
