import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { Phone } from './phone.js';

/** Issue 23: the call log is written after the phone has told its hosts, in one transaction per event-loop turn. */
describe('call-log writes off the signalling path', () => {
  const timers = { t1: 100, t2: 400 };
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp() {
    const network = new MemoryNetwork();
    const lab = await Lab.start({ users: { alice: {}, bob: {} }, timers, sockets: network });
    cleanups.push(() => lab.stop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-log-order-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'calllog.sqlite');
    const log = CallLogStore.open(file, { retentionIntervalMs: 0 });
    cleanups.push(() => log.close());
    const other = new Database(file); // another connection: sees only what is committed
    cleanups.push(() => void other.close());
    const make = (user: string, extra: object = {}) => {
      const events: PhoneEvent[] = [];
      const phone = new Phone({ accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...extra }], callLog: log, createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers, sockets: network });
      cleanups.push(() => phone.shutdown());
      return { phone, events };
    };
    const alice = make('alice');
    const bob = make('bob', { answer: { kind: 'auto' } });
    await alice.phone.register();
    await bob.phone.register();
    return { alice, bob, other };
  }

  const last = (events: PhoneEvent[], id: string): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;

  it('tells the hosts of a call before its row is in the file, and has it there once the turn is over', async () => {
    const { alice, other } = await setUp();
    const row = (id: string) => other.prepare('SELECT result, status FROM calls WHERE id = ?').get(id) as { result: string; status: number | null } | undefined;
    const seenAtEvent: Array<{ state: string; row: ReturnType<typeof row> }> = [];
    alice.phone.subscribe((event) => {
      if (event.type !== 'call') return;
      alice.events.push(event);
      seenAtEvent.push({ state: event.call.state, row: row(event.call.id) });
    });
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => last(alice.events, call.id)?.state === 'established');
    await alice.phone.hangup(call.id);
    await until(() => last(alice.events, call.id)?.state === 'terminated');
    // the first event came before the row was written; the one saying "terminated" before its final status was
    expect(seenAtEvent[0]!.row).toBeUndefined();
    expect(seenAtEvent.find((e) => e.state === 'terminated')!.row?.result).toBe('in-progress');
    await until(() => (row(call.id)?.result === 'answered' ? true : undefined));
    expect(row(call.id)).toEqual({ result: 'answered', status: 200 });
  });

  it('reports a write that failed after the event went out as STORAGE_FAILED', async () => {
    const { alice, other } = await setUp();
    alice.phone.subscribe((event) => alice.events.push(event));
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => last(alice.events, call.id)?.state === 'established');
    await until(() => (other.prepare('SELECT 1 FROM calls WHERE id = ?').get(call.id) ? true : undefined));
    // someone removes the call from the file meanwhile (another Veilphone's retention, a user with sqlite3)
    other.prepare('DELETE FROM messages WHERE call_id = ?').run(call.id);
    other.prepare('DELETE FROM calls WHERE id = ?').run(call.id);
    await alice.phone.hangup(call.id);
    await until(() => last(alice.events, call.id)?.state === 'terminated');
    const failure = await until(() => alice.events.find((e): e is Extract<PhoneEvent, { type: 'error' }> => e.type === 'error' && e.code === 'STORAGE_FAILED'));
    expect(failure.message).toBe(`no call ${call.id} in the log`);
  });
});
