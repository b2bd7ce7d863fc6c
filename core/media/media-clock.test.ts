import { describe, expect, it } from 'vitest';
import { MediaClock } from './media-clock.js';

describe('MediaClock', () => {
  it('ticks once per 20 ms, never twice in a row (a timer that fires early must not send a frame twice)', async () => {
    const clock = new MediaClock();
    const at: number[] = [];
    const stop = clock.subscribe(() => at.push(performance.now()));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    stop();
    expect(at.length).toBeGreaterThanOrEqual(45);
    expect(at.length).toBeLessThanOrEqual(52);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps.filter((g) => g < 10).length).toBe(0);
  });

  it('keeps ticking for the others when one listener throws, and stops when the last one leaves', async () => {
    const clock = new MediaClock();
    let good = 0;
    clock.subscribe(() => {
      throw new Error('bad listener');
    });
    const stop = clock.subscribe(() => good++);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(good).toBeGreaterThanOrEqual(7);
    stop();
    const frozen = good;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(good).toBe(frozen);
  });
});
