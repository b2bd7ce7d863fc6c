import { describe, expect, it } from 'vitest';
import { estimateIndex, ReplayWindow } from './srtp-replay.js';

describe('SRTP index estimation (RFC 3711 §3.3.1)', () => {
  it('takes ROC 0 for the first packet, whatever its sequence number', () => {
    expect(estimateIndex(-1, 65530)).toBe(65530);
    expect(estimateIndex(-1, 0)).toBe(0);
  });

  it('moves to ROC + 1 across the wrap and stays there for late packets from before it', () => {
    expect(estimateIndex(65535, 0)).toBe(65536);
    expect(estimateIndex(65530, 3)).toBe(65539);
    expect(estimateIndex(65536 + 2, 65534)).toBe(65534); // a late packet from ROC 0
    expect(estimateIndex(3 * 65536 + 100, 65000)).toBe(2 * 65536 + 65000);
    expect(estimateIndex(3 * 65536 + 40000, 200)).toBe(4 * 65536 + 200);
  });

  it('guesses a negative index for a packet from before a stream that began near 0', () => {
    expect(estimateIndex(10, 65530)).toBeLessThan(0);
  });

  it('works at the top of the 48-bit index', () => {
    const top = 2 ** 48 - 1;
    expect(estimateIndex(top - 1, 0xffff)).toBe(top);
  });
});

describe('Replay window (RFC 3711 §3.3.2)', () => {
  it.each([64, 128])('with %i packets: accepts new and in-window unseen indices, refuses replays and ones too old', (size) => {
    const window = new ReplayWindow(size);
    expect(window.check(1000)).toBe('ok');
    window.accept(1000);
    expect(window.check(1000)).toBe('REPLAYED');
    expect(window.check(999)).toBe('ok'); // unseen, inside the window
    window.accept(999);
    expect(window.check(999)).toBe('REPLAYED');
    expect(window.check(1000 - size + 1)).toBe('ok');
    expect(window.check(1000 - size)).toBe('TOO_OLD');
    window.accept(1000 + size + 5); // a jump past the whole window forgets it
    expect(window.check(1000 + size)).toBe('ok');
    expect(window.check(1000)).toBe('TOO_OLD');
    expect(window.check(1000 + size + 5)).toBe('REPLAYED');
  });

  it('clears the slots it slides over, so an index reusing an old slot is not taken for a replay', () => {
    const window = new ReplayWindow(64);
    for (let i = 0; i < 64; i++) window.accept(i);
    window.accept(70);
    for (let i = 64; i < 70; i++) expect(window.check(i)).toBe('ok');
    expect(window.check(6)).toBe('TOO_OLD');
    expect(window.check(7)).toBe('REPLAYED');
  });

  it('refuses sizes below 64 or not a multiple of 32', () => {
    expect(() => new ReplayWindow(32)).toThrow(RangeError);
    expect(() => new ReplayWindow(100)).toThrow(RangeError);
  });
});
