import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { PortPool } from '../lease/port-pool.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';
import { until } from '../../test/support/until.js';

const timers = { t1: 100, t2: 400 };


describe('a phone on a leased port range (seed 003)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('binds SIP and RTP/RTCP inside the range and refuses a call that does not fit, never falling back to an OS port', async () => {
    const lab = await Lab.start({ timers });
    cleanup.push(() => lab.stop());
    const pool = new PortPool({ min: 31000, max: 31003 }); // one SIP port and one RTP/RTCP pair
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server: lab.servers.udp!, transport: 'udp', domain: lab.domain }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      lease: { pool, privateAddress: '10.77.0.10', natAddress: '198.51.100.7' },
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' } }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers });
    cleanup.push(() => bob.shutdown());
    await bob.register();
    await alice.register();
    const placed = await alice.call({ target: 'bob' });
    const last = (id: string): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;
    await until(() => last(placed.id)?.state === 'established' && last(placed.id)?.media?.localRtp);
    expect(placed.localSip).toMatch(/:3100[0-3]$/);
    expect((await alice.snapshot()).lease).toEqual({ address: '10.77.0.10', ports: { min: 31000, max: 31003 }, inUse: 3, capacity: 4, nat: '198.51.100.7' });
    expect(last(placed.id)!.media!.localRtp).toMatch(/:31000$/);
    await expect(alice.call({ target: 'bob' })).rejects.toMatchObject({ code: 'PORT_RANGE_EXHAUSTED' });
    await alice.hangup(placed.id);
    await until(() => last(placed.id)?.state === 'terminated');
    await until(() => pool.snapshot().freePairs === 1);
    const again = await alice.call({ target: 'bob' }); // the pair came back
    await until(() => last(again.id)?.state === 'established');
    expect(last(again.id)!.media!.localRtp).toMatch(/:3100[02]$/);
  });
});
