import { afterEach, describe, expect, it } from 'vitest';
import { CallLogStore } from '../calllog/call-log-store.js';
import type { LoadCallProgress } from './call-load.js';
import type { LoadWorkerData } from './load-worker-protocol.js';
import { LoadWorkers } from './load-workers.js';

/** The pool's threads run test/support/fake-load-worker.js: the protocol without a phone, scripted per worker. */
const fake = new URL('../../test/support/fake-load-worker.js', import.meta.url);
const pools: LoadWorkers[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
});

async function start(scripts: object[], options: { callLog?: CallLogStore; graceMs?: number } = {}): Promise<LoadWorkers> {
  const pool = await LoadWorkers.start(fake, scripts as unknown as LoadWorkerData[], options.callLog, options.graceMs);
  pools.push(pool);
  return pool;
}

function progress(): LoadCallProgress & { answers: number } {
  const seen = { answers: 0, answered: () => void seen.answers++ };
  return seen;
}

describe('LoadWorkers', () => {
  it('spreads calls over its threads and brings back each outcome and answer', async () => {
    const pool = await start([{}, {}]);
    const seen = progress();
    const outcomes = await Promise.all([1, 2, 3, 4].map((call) => pool.place(call, seen)));
    expect(outcomes.every((o) => o.established && o.status === 200)).toBe(true);
    expect(seen.answers).toBe(4);
  });

  it('fails the calls of a thread that dies, and goes on with the others', async () => {
    const pool = await start([{ dieOn: 1 }, {}]);
    const first = await pool.place(1, progress()); // the first call goes to the first thread, which dies on it
    expect(first).toEqual({ established: false, error: 'LOAD_WORKER_FAILED' });
    const rest = await Promise.all([2, 3, 4].map((call) => pool.place(call, progress())));
    expect(rest.every((o) => o.established)).toBe(true);
  });

  it('keeps a call answered before its thread died answered, so it is not counted failed too', async () => {
    const pool = await start([{ answerThenDieOn: 1 }]);
    const seen = progress();
    await expect(pool.place(1, seen)).resolves.toEqual({ established: true, status: 200 });
    expect(seen.answers).toBe(1);
    await expect(pool.place(2, progress())).resolves.toEqual({ established: false, error: 'LOAD_WORKER_FAILED' });
  });

  it('refuses to start when a thread cannot make its phone, naming why', async () => {
    await expect(start([{}, { failToStart: true }])).rejects.toThrow(/could not start: no phone for you/);
  });

  it('writes the calls its threads relay into the run\'s call log', async () => {
    const callLog = CallLogStore.open(':memory:');
    const pool = await start([{ log: true }], { callLog });
    await pool.place(7, progress());
    await pool.stop();
    callLog.flush();
    expect(callLog.getCall('c7')).toMatchObject({ accountId: 'alice', direction: 'outgoing', result: 'answered', status: 200 });
    callLog.close();
  });

  it('on stop, ends a thread that does not stop within the grace and fails what it still had', async () => {
    const pool = await start([{ silentOn: 1, hangOnStop: true }], { graceMs: 200 });
    const pending = pool.place(1, progress());
    await pool.stop();
    await expect(pending).resolves.toEqual({ established: false, error: 'LOAD_WORKER_FAILED' });
    await expect(pool.place(2, progress())).resolves.toEqual({ established: false, error: 'LOAD_WORKER_FAILED' });
  });

  it('fails the calls a thread still had when it says it stopped (a load cut by its timeout)', async () => {
    const pool = await start([{ silentOn: 1 }]);
    const pending = pool.place(1, progress());
    await pool.stop();
    await expect(pending).resolves.toEqual({ established: false, error: 'LOAD_WORKER_FAILED' });
  });
});
