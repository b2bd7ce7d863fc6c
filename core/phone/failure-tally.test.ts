import { describe, expect, it } from 'vitest';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { PortPool } from '../lease/port-pool.js';
import { FailureTally } from './failure-tally.js';
import { Phone } from './phone.js';

describe('best-effort steps that fail are counted and reported once, never swallowed', () => {
  it('counts each failure by step and reports the first of each kind', () => {
    const events: PhoneEvent[] = [];
    const tally = new FailureTally((e) => events.push(e));
    for (let i = 0; i < 3; i++) tally.of('refusing an INVITE')(new Error(`gone ${i}`));
    tally.of('ringing (180)')('not an Error');
    expect(tally.snapshot()).toEqual({ 'refusing an INVITE': 3, 'ringing (180)': 1 });
    expect(events).toEqual([
      { type: 'error', code: 'BEST_EFFORT_FAILED', message: expect.stringMatching(/^refusing an INVITE failed: gone 0/) },
      { type: 'error', code: 'BEST_EFFORT_FAILED', message: expect.stringMatching(/^ringing \(180\) failed: not an Error/) },
    ]);
  });

  it('a lease the phone cannot give back at shutdown is reported, not dropped', async () => {
    const phone = new Phone({
      accounts: [],
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      lease: { pool: new PortPool({ min: 31200, max: 31209 }), privateAddress: '10.77.0.20', release: async () => Promise.reject(new Error('no route to the DHCP server')) },
    });
    const events: PhoneEvent[] = [];
    phone.subscribe((e) => events.push(e));
    await phone.shutdown();
    expect(phone.failures.snapshot()).toEqual({ 'giving the DHCP lease back (RFC 2131 §4.4.6 RELEASE)': 1 });
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', code: 'BEST_EFFORT_FAILED', message: expect.stringContaining('no route to the DHCP server') }]);
  });
});
