import { describe, expect, it } from 'vitest';
import { loadLimits, rateShortfall, runLoad, type LoadCallOutcome, type LoadInterval } from './call-load.js';

/**
 * A clock the test moves (a discrete-event simulation): sleeps and interval ticks are timers; `drive` lets every
 * promise settle, then jumps to the next timer, so schedules are exact and the test takes no real time.
 */
function virtualClock() {
  let now = 0;
  let seq = 0;
  const timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  const schedule = (at: number, fire: () => void) => void timers.push({ at, seq: seq++, fire });
  return {
    now: () => now,
    advance: (ms: number) => void (now += ms),
    sleep: (ms: number) => new Promise<void>((resolve) => schedule(now + Math.max(0, ms), resolve)),
    every: (ms: number, tick: () => void) => {
      let active = true;
      const arm = (at: number): void => schedule(at, () => {
        if (!active) return;
        tick();
        arm(at + ms);
      });
      arm(now + ms);
      return () => void (active = false);
    },
    async drive<T>(work: Promise<T>): Promise<T> {
      let done = false;
      void work.finally(() => void (done = true)).catch(() => undefined);
      for (let step = 0; step < 1_000_000 && !done; step++) {
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        if (done || timers.length === 0) continue;
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers.shift()!;
        now = next.at;
        next.fire();
      }
      return work;
    },
  };
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
    const summary = await clock.drive(runLoad({ calls: 5, rate: 4, parallel: 10 }, async (i) => {
      starts.push(clock.now());
      return outcomes[i]!;
    }, { clock }));
    expect(starts).toEqual([0, 250, 500, 750, 1000]);
    expect(summary).toMatchObject({ attempted: 5, established: 3, failed: 2, statuses: { '200': 3, '486': 1, none: 1 }, setupMs: { p50: 30, p95: 40, p99: 40, max: 40 }, achievedRate: 4 });
    expect(summary.rate).toEqual({ asked: 4, achieved: 4, sustained: true, maxLagMs: 0, maxQueued: 0, heldByParallel: 0 });
    expect(rateShortfall('l1', summary)).toBeUndefined();
  });

  it('stopped early (the run\'s timeout, Ctrl-C): starts no more calls and reports at once, its calls still going as unfinished', async () => {
    const clock = virtualClock();
    const stop = new AbortController();
    const starts: number[] = [];
    // each call lasts 10 s, and calls 2-6 are answered (held) when the load is stopped 1.1 s in, while it waits for its
    // next start
    const load = runLoad({ calls: 100, rate: 10, parallel: 100 }, async (i, progress) => {
      starts.push(clock.now());
      if (i === 11) stop.abort('SIGINT');
      if (i >= 2 && i <= 6) progress.answered(5, 200);
      await clock.sleep(i < 2 ? 50 : 10_000);
      return { established: true, status: 200, setupMs: 5 };
    }, { clock, stop: stop.signal });
    const summary = await clock.drive(load);
    expect(starts).toHaveLength(12);
    expect(clock.now()).toBeLessThan(2000); // it did not wait out the calls going on
    // the answered calls still going are established, with their status (the outsider review: 31 established, 11 200s)
    expect(summary).toMatchObject({ attempted: 12, established: 7, failed: 0, unfinished: 10, statuses: { '200': 7 } });
    await clock.drive(clock.sleep(20_000)); // the calls left going end later: the summary given stays as it was
    expect(summary.statuses).toEqual({ '200': 7 });
  });

  it('never runs more than `parallel` at once: a start waits for a call to end', async () => {
    const clock = virtualClock();
    const ends: Array<() => void> = [];
    let running = 0;
    let most = 0;
    const done = clock.drive(runLoad({ calls: 6, rate: 1000, parallel: 2 }, () => {
      running++;
      most = Math.max(most, running);
      return new Promise<LoadCallOutcome>((resolve) =>
        ends.push(() => {
          running--;
          resolve({ established: true, status: 200, setupMs: 1 });
        }),
      );
    }, { clock }));
    for (let ended = 0; ended < 6; ended++) {
      await until(() => ends.length > ended && (running === 2 || ends.length === 6));
      ends[ended]!();
    }
    const summary = await done;
    expect(most).toBe(2);
    expect(summary).toMatchObject({ attempted: 6, established: 6, peakParallel: 2 });
  });

  it('counts a call that throws as failed, with no status and the error\'s code, and goes on', async () => {
    const clock = virtualClock();
    const summary = await clock.drive(runLoad({ calls: 3, rate: 1000, parallel: 3 }, async (i) => {
      if (i === 1) throw Object.assign(new Error('128 calls are going on, the most this phone takes at once'), { code: 'TOO_MANY_CALLS' });
      if (i === 2) throw new TypeError('a bug');
      return { established: true, status: 200, setupMs: 5 };
    }, { clock }));
    expect(summary).toMatchObject({ attempted: 3, established: 1, failed: 2, statuses: { '200': 1, none: 2 }, errors: { TOO_MANY_CALLS: 1, TypeError: 1 } });
  });

  it('runs for a duration: starts stop when it is over, at the asked rate', async () => {
    // a start time with a fraction, as performance.now() gives: 3 s at 5/s is 15 calls, not 16
    const fractional = virtualClock();
    fractional.advance(1096.1055000000001); // (t0 + 3000) - t0 < 3000 in floating point
    const short = await fractional.drive(runLoad({ durationMs: 3000, rate: 5, parallel: 10 }, async () => ({ established: true, status: 200, setupMs: 1 }), { clock: fractional }));
    expect(short.attempted).toBe(15);
    const clock = virtualClock();
    const summary = await clock.drive(runLoad({ durationMs: 2000, rate: 500, parallel: 5000 }, async () => ({ established: true, status: 200, setupMs: 2 }), { clock }));
    expect(summary).toMatchObject({ attempted: 1000, established: 1000, failed: 0, achievedRate: 500 });
    expect(summary.rate.sustained).toBe(true);
  });

  it('takes SIPp-sized plans: 2000 calls/s, 5000 at once, up to a million calls', () => {
    expect(loadLimits).toMatchObject({ calls: 1_000_000, rate: 2000, parallel: 5000 });
  });

  it('counts every second what was started, answered and failed, with that second\'s setup percentiles', async () => {
    const clock = virtualClock();
    const intervals: LoadInterval[] = [];
    // 10 calls/s for 3 s; each call is answered 150 ms after it starts (setup = 10 + its index) and ends 1.5 s later;
    // every fourth call fails when it ends, without an answer
    const summary = await clock.drive(runLoad({ calls: 30, rate: 10, parallel: 100 }, async (i, progress) => {
      const fails = i % 4 === 3;
      await clock.sleep(150);
      if (!fails) progress.answered(10 + i);
      await clock.sleep(1500);
      return fails ? { established: false, status: 486 } : { established: true, status: 200, setupMs: 10 + i };
    }, { clock, onInterval: (entry) => intervals.push(entry) }));
    expect(intervals.map((i) => i.started)).toEqual([10, 10, 10, 0, 0]);
    // calls 0-8 are answered in the first second (at 150 … 950 ms; 3 and 7 fail), 9-18 in the second, … 29 at 3.05 s
    expect(intervals.map((i) => i.answered)).toEqual([7, 8, 7, 1, 0]);
    // a failure counts when the call ends (1.65 s after its start): call 3 at 1.95 s, 7 and 11 at 2.35 and 2.75 s, …
    expect(intervals.map((i) => i.failed)).toEqual([0, 1, 2, 3, 1]);
    expect(intervals[0]!.setupMs).toEqual({ p50: 14, p95: 18, p99: 18 });
    expect(intervals.at(-1)).toMatchObject({ totalStarted: 30, totalAnswered: 23, totalFailed: 7, running: 0, queued: 0 });
    expect(intervals.reduce((sum, i) => sum + i.intervalMs, 0)).toBe(summary.elapsedMs);
    expect(intervals.map((i) => i.intervalMs)).toEqual([1000, 1000, 1000, 1000, 550]);
    expect(summary).toMatchObject({ attempted: 30, established: 23, failed: 7 });
  });

  it('says so when the asked rate was not sustained: the achieved rate, how far behind and how many queued', async () => {
    const clock = virtualClock();
    // every call takes 1 s and only 2 may run at once: 100 calls/s asked, 2 calls/s possible
    const summary = await clock.drive(runLoad({ calls: 6, rate: 100, parallel: 2 }, async () => {
      await clock.sleep(1000);
      return { established: true, status: 200, setupMs: 1 };
    }, { clock }));
    expect(summary.rate).toMatchObject({ asked: 100, sustained: false, heldByParallel: 4 });
    expect(summary.rate.achieved).toBeLessThan(5);
    expect(summary.rate.maxLagMs).toBeGreaterThan(1000);
    expect(summary.rate.maxQueued).toBeGreaterThan(0);
    expect(rateShortfall('l1', summary)).toMatch(/^load l1: asked 100 calls\/s, achieved [\d.]+ calls\/s; starts fell up to \d+ ms behind schedule with up to \d+ calls queued: 4 starts waited/);
  });

  it('reports at least as many queued calls as any interval of --stats showed (a tick sees starts held by parallel)', async () => {
    const clock = virtualClock();
    const intervals: LoadInterval[] = [];
    // 10 calls/s asked, each 1 s long, one at a time: starts pile up behind `parallel` between the calls' ends
    const summary = await clock.drive(runLoad({ calls: 8, rate: 10, parallel: 1 }, async () => {
      await clock.sleep(1000);
      return { established: true, status: 200, setupMs: 1 };
    }, { clock, onInterval: (entry) => intervals.push(entry) }));
    const most = Math.max(...intervals.map((i) => i.queued));
    expect(most).toBeGreaterThan(0);
    expect(summary.rate.maxQueued).toBeGreaterThanOrEqual(most);
  });
});

async function until(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !probe(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!probe()) throw new Error('never happened');
}
