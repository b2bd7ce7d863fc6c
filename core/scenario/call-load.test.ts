import { describe, expect, it } from 'vitest';
import { runLoad, type LoadCallOutcome } from './call-load.js';

/** A clock the test moves: sleeping advances it at once, so schedules are exact and the test takes no time. */
function virtualClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms) };
}

describe('a load of calls (SPEC G: N parallel calls at a given rate)', () => {
  it('starts the calls on schedule and sums up statuses and setup times', async () => {
    const clock = virtualClock();
    const starts: number[] = [];
    const outcomes: LoadCallOutcome[] = [
      { established: true, status: 200, setupMs: 40 },
      { established: true, status: 200, setupMs: 10 },
      { established: false, status: 486 },
      { established: true, status: 200, setupMs: 30 },
      { established: false },
    ];
    const summary = await runLoad({ calls: 5, rate: 4, parallel: 10 }, async (i) => {
      starts.push(clock.now());
      return outcomes[i]!;
    }, clock);
    expect(starts).toEqual([0, 250, 500, 750, 1000]);
    expect(summary).toMatchObject({ attempted: 5, established: 3, failed: 2, statuses: { '200': 3, '486': 1, none: 1 }, setupMs: { p50: 30, p95: 40, max: 40 }, achievedRate: 4 });
  });

  it('never runs more than `parallel` at once: a start waits for a call to end', async () => {
    const clock = virtualClock();
    const ends: Array<() => void> = [];
    let running = 0;
    let most = 0;
    const done = runLoad({ calls: 6, rate: 1000, parallel: 2 }, () => {
      running++;
      most = Math.max(most, running);
      return new Promise<LoadCallOutcome>((resolve) =>
        ends.push(() => {
          running--;
          resolve({ established: true, status: 200, setupMs: 1 });
        }),
      );
    }, clock);
    for (let ended = 0; ended < 6; ended++) {
      await until(() => ends.length > ended);
      ends[ended]!();
    }
    const summary = await done;
    expect(most).toBe(2);
    expect(summary).toMatchObject({ attempted: 6, established: 6, peakParallel: 2 });
  });

  it('counts a call that throws as failed, with no status, and goes on', async () => {
    const summary = await runLoad({ calls: 3, rate: 1000, parallel: 3 }, async (i) => {
      if (i === 1) throw new Error('no room for another call in the leased ports');
      return { established: true, status: 200, setupMs: 5 };
    }, virtualClock());
    expect(summary).toMatchObject({ attempted: 3, established: 2, failed: 1, statuses: { '200': 2, none: 1 } });
  });
});

async function until(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !probe(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!probe()) throw new Error('never happened');
}
