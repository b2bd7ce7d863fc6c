import { describe, expect, it } from 'vitest';
import { toneShare as coreToneShare } from '../../core/media/tone-detector.js';
import { rmsLevel, toneShare } from './tone-share.js';

function frames(frequency: number, count: number, amplitude = 8000): Int16Array[] {
  return Array.from({ length: count }, (_, f) => Int16Array.from({ length: 160 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * frequency * (f * 160 + i)) / 8000))));
}

describe('the renderer\'s tone check (renderer/audio/tone-share.ts)', () => {
  it('reads a clean tone near 1 at its frequency, low elsewhere, and agrees with core/media', () => {
    const tone = frames(1000, 25);
    expect(toneShare(tone, 1000)).toBeGreaterThan(0.9);
    expect(toneShare(tone, 600)).toBeLessThan(0.1);
    const flat = Int16Array.from(tone.flatMap((f) => [...f]));
    expect(toneShare(tone, 1000)).toBeCloseTo(coreToneShare(flat, 1000), 6);
    expect(toneShare(frames(1000, 10, 5), 1000)).toBe(0); // silence is no evidence
    const noise = [Int16Array.from({ length: 160 }, (_, i) => ((i * 7919) % 2001) * 8 - 8000)];
    expect(toneShare(noise, 1000)).toBeLessThan(0.3);
  });
  it('measures levels as a share of full scale', () => {
    expect(rmsLevel(new Int16Array(160))).toBe(0);
    expect(rmsLevel(frames(1000, 1, 32767)[0]!)).toBeCloseTo(Math.SQRT1_2, 2);
  });
});
