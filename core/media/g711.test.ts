import { describe, expect, it } from 'vitest';
import { decodeG711, encodeG711, g711Silence } from './g711.js';

describe('G.711', () => {
  it.each(['PCMU', 'PCMA'] as const)('%s round-trips within the law\'s quantisation step', (law) => {
    const pcm = Int16Array.from({ length: 2001 }, (_, i) => Math.round(-32000 + i * 32));
    const back = decodeG711(law, encodeG711(law, pcm));
    for (let i = 0; i < pcm.length; i++) {
      const step = Math.max(16, Math.abs(pcm[i]!) / 16); // logarithmic: ~1/16 of the magnitude
      expect(Math.abs(back[i]! - pcm[i]!)).toBeLessThanOrEqual(step);
    }
  });

  it('matches the reference code points (ITU-T G.711 tables)', () => {
    expect([...encodeG711('PCMU', Int16Array.from([0, 1000, -1000, 32767, -32768]))]).toEqual([0xff, 0xce, 0x4e, 0x80, 0x00]);
    expect([...encodeG711('PCMA', Int16Array.from([0, 1000, -1000, 32767, -32768]))]).toEqual([0xd5, 0xfa, 0x7a, 0xaa, 0x2a]);
    expect(g711Silence('PCMU')).toBe(0xff);
    expect([...decodeG711('PCMU', Uint8Array.from([0xff, 0x7f]))]).toEqual([0, 0]);
  });
});
