import { describe, expect, it } from 'vitest';
import { until } from '../../test/support/until.js';
import { MediaClock } from './media-clock.js';

describe('MediaClock', () => {
  /** A clock on simulated time: the test decides when the timer fires (early, on time, or after a stall). */
  function simulated(): { clock: MediaClock; advance(ms: number, fireAt?: number): void; pendingDelay(): number | undefined } {
    let now = 1000;
    let pending: { fire: () => void; at: number } | undefined;
    const clock = new MediaClock({
      now: () => now,
      setTimer: (fire, ms) => (pending = { fire, at: now + ms }),
      clearTimer: () => (pending = undefined),
    });
    return {
      clock,
      // time passes; the timer fires at `fireAt` (default: when it was due), however late or early that is
      advance(ms, fireAt) {
        now += ms;
        const timer = pending;
        if (timer && (fireAt !== undefined || now >= timer.at)) {
          pending = undefined;
          timer.fire();
        }
      },
      pendingDelay: () => (pending ? pending.at - now : undefined),
    };
  }

  it('ticks once per 20 ms and never twice for one frame, even when its timer fires early', () => {
    const { clock, advance } = simulated();
    const ticks: number[] = [];
    clock.subscribe((tick) => ticks.push(tick));
    for (let i = 0; i < 10; i++) advance(20);
    expect(ticks).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    advance(19, 0); // fired 1 ms early: nothing is due yet
    expect(ticks).toHaveLength(10);
    advance(1);
    expect(ticks).toHaveLength(11);
  });

  it('catches up a short stall frame by frame, and skips ahead after a long one instead of bursting', () => {
    const { clock, advance, pendingDelay } = simulated();
    const ticks: number[] = [];
    clock.subscribe((tick) => ticks.push(tick));
    advance(60); // three frames due at once
    expect(ticks).toEqual([1, 2, 3]);
    advance(500); // 25 frames late: at most five go out, then the clock starts again from now
    expect(ticks).toHaveLength(8);
    expect(clock.lateTicks).toBe(2);
    expect(pendingDelay()).toBe(20);
  });

  it('ticks for real on the event loop', async () => {
    const clock = new MediaClock();
    let ticks = 0;
    const stop = clock.subscribe(() => ticks++);
    await until(() => ticks > 0);
    stop();
  });

  it('keeps ticking for the others when one listener throws (and drops it), and stops when the last one leaves', () => {
    const { clock, advance, pendingDelay } = simulated();
    let good = 0;
    let bad = 0;
    clock.subscribe(() => {
      bad++;
      throw new Error('bad listener');
    });
    const stop = clock.subscribe(() => good++);
    advance(20);
    advance(20);
    expect({ good, bad }).toEqual({ good: 2, bad: 1 });
    expect(pendingDelay()).toBe(20);
    stop();
    expect(pendingDelay()).toBeUndefined(); // nobody listens: no timer
    advance(40);
    expect(good).toBe(2);
  });
});
