import { describe, expect, it } from 'vitest';
import { loadStatsHeader, loadStatsRow } from './load-stats-csv.js';

describe('per-interval load statistics as CSV (veilphone run --stats, like SIPp -trace_stat)', () => {
  it('writes one row per interval under a header with the same columns', () => {
    const row = loadStatsRow('l1', { elapsedMs: 2000, intervalMs: 1000, started: 300, answered: 298, failed: 1, running: 12, queued: 3, setupMs: { p50: 2.5, p95: 7, p99: 11.25 }, totalStarted: 600, totalAnswered: 590, totalFailed: 1 }, new Date('2026-12-04T21:00:02.000Z'));
    expect(row).toBe('2026-12-04T21:00:02.000Z,l1,2.000,1.000,300,298,1,12,3,300.0,2.50,7.00,11.25,600,590,1');
    expect(row.split(',')).toHaveLength(loadStatsHeader.split(',').length);
  });

  it('leaves the setup columns empty in an interval where no call was answered', () => {
    const row = loadStatsRow('l1', { elapsedMs: 4550, intervalMs: 550, started: 0, answered: 0, failed: 2, running: 0, queued: 0, totalStarted: 30, totalAnswered: 23, totalFailed: 7 }, new Date(0));
    expect(row.split(',').slice(9, 13)).toEqual(['0.0', '', '', '']);
  });
});
