import { describe, expect, it } from 'vitest';
import type { LoadInterval } from '../core/scenario/call-load.js';
import { LoadProgress } from './load-progress.js';

const second: LoadInterval = { elapsedMs: 3000, intervalMs: 1000, started: 300, answered: 297, failed: 0, running: 9, queued: 4, setupMs: { p50: 2.04, p95: 5, p99: 8.96 }, totalStarted: 900, totalAnswered: 890, totalFailed: 1 };

function output(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, write: (text: string) => written.push(text), written };
}

describe('the live progress line of a running load', () => {
  it('rewrites one line on a terminal, and ends it before anything else is printed', () => {
    const out = output(true);
    const progress = new LoadProgress(out);
    progress.update('l1', second);
    progress.update('l1', { ...second, elapsedMs: 4000 });
    progress.end();
    progress.end();
    expect(out.written).toEqual([
      '\r\x1b[2Kload l1 3s: 300 calls/s, started 900 answered 890 failed 1, running 9 queued 4 setup p50 2.0 p99 9.0 ms',
      '\r\x1b[2Kload l1 4s: 300 calls/s, started 900 answered 890 failed 1, running 9 queued 4 setup p50 2.0 p99 9.0 ms',
      '\n',
    ]);
  });

  it('writes nothing when the output is piped, or when it is turned off (--quiet)', () => {
    const piped = output(false);
    new LoadProgress(piped).update('l1', second);
    const quiet = output(true);
    new LoadProgress(quiet, false).update('l1', second);
    expect([...piped.written, ...quiet.written]).toEqual([]);
  });
});
