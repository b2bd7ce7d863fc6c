import type { LoadInterval } from './call-load.js';

/**
 * A running load's per-interval counts as CSV (`veilphone run --stats FILE`, like SIPp's -trace_stat): one row per load
 * and interval, written as the load runs so a tester can follow or plot it.
 */
export const loadStatsHeader =
  'time,load,elapsed_s,interval_s,started,answered,failed,running,queued,started_per_s,setup_p50_ms,setup_p95_ms,setup_p99_ms,total_started,total_answered,total_failed';

export function loadStatsRow(load: string, interval: LoadInterval, at: Date): string {
  const seconds = interval.intervalMs / 1000;
  const setup = interval.setupMs;
  return [
    at.toISOString(),
    csvField(load),
    (interval.elapsedMs / 1000).toFixed(3),
    seconds.toFixed(3),
    interval.started,
    interval.answered,
    interval.failed,
    interval.running,
    interval.queued,
    seconds > 0 ? (interval.started / seconds).toFixed(1) : '0.0',
    setup ? ms(setup.p50) : '',
    setup ? ms(setup.p95) : '',
    setup ? ms(setup.p99) : '',
    interval.totalStarted,
    interval.totalAnswered,
    interval.totalFailed,
  ].join(',');
}

function ms(value: number): string {
  return value.toFixed(2);
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled (load ids are names, but still). */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
