import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { Phone } from './phone.js';

/**
 * The UI review's two unheld calls: alice calls carol, and while it rings takes bob's call with "Hold and answer"
 * (nothing to hold yet). When carol answered, her call stayed off hold beside bob's and took the audio from him.
 */
describe('a call set aside while it still rang', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setUp(): Promise<{ phone: (account: Partial<AccountConfig> & { id: string; user: string }) => { phone: Phone; events: PhoneEvent[] } }> {
    const network = new MemoryNetwork();
    const timers = { t1: 100, t2: 400 };
    const lab = await Lab.start({ users: { alice: {}, bob: {}, carol: {} }, timers, sockets: network });
    cleanup.push(() => lab.stop());
    return {
      phone: (account) => {
        const events: PhoneEvent[] = [];
        const p = new Phone({ accounts: [{ server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...account }], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers, sockets: network });
        p.subscribe((e) => events.push(e));
        cleanup.push(() => p.shutdown());
        return { phone: p, events };
      },
    };
  }
  /** alice calls carol, who rings (answering by hand), and while it rings bob calls alice: alice's call from him rings. */
  async function carolRingingWhileBobCalls() {
    const { phone } = await setUp();
    const alice = phone({ id: 'alice', user: 'alice' });
    const bob = phone({ id: 'bob', user: 'bob' });
    const carol = phone({ id: 'carol', user: 'carol' });
    await Promise.all([alice.phone.register(), bob.phone.register(), carol.phone.register()]);
    const toCarol = await alice.phone.call({ target: 'carol' });
    const ringingAtCarol = await until(() => carol.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call);
    const fromBobPlaced = await bob.phone.call({ target: 'alice' });
    const fromBob = await until(() => alice.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call);
    return { alice, bob, carol, toCarol, ringingAtCarol, fromBobPlaced, fromBob };
  }
  const last = (events: PhoneEvent[], id: string): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;

  it.each(['hold', 'hangup'] as const)('"%s and answer": the ringing call is held once answered, or cancelled; the call answered keeps the audio', async (others) => {
    const { alice, carol, toCarol, ringingAtCarol, fromBob } = await carolRingingWhileBobCalls();
    await alice.phone.answer(fromBob.id, others);
    await until(() => (last(alice.events, fromBob.id)?.state === 'established' ? true : undefined));
    if (others === 'hangup') {
      await until(() => (last(alice.events, toCarol.id)?.state === 'terminated' ? true : undefined));
      expect(last(carol.events, ringingAtCarol.id)?.state).toBe('terminated');
      return;
    }
    await carol.phone.answer(ringingAtCarol.id);
    await until(() => (last(alice.events, toCarol.id)?.localHold === true ? true : undefined), 5000);
    expect(last(alice.events, toCarol.id)).toMatchObject({ state: 'established', localHold: true });
    expect(last(alice.events, fromBob.id)).toMatchObject({ state: 'established', localHold: false });
  });

  it('a call set aside whose chosen call ended before it was answered talks when answered: nothing else is up', async () => {
    const { alice, bob, carol, toCarol, ringingAtCarol, fromBobPlaced, fromBob } = await carolRingingWhileBobCalls();
    await alice.phone.answer(fromBob.id, 'hold');
    await until(() => (last(alice.events, fromBob.id)?.state === 'established' ? true : undefined));
    await bob.phone.hangup(fromBobPlaced.id);
    await until(() => (last(alice.events, fromBob.id)?.state === 'terminated' ? true : undefined));
    await carol.phone.answer(ringingAtCarol.id);
    await until(() => (last(alice.events, toCarol.id)?.state === 'established' ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(last(alice.events, toCarol.id)).toMatchObject({ state: 'established', localHold: false });
  });
});
