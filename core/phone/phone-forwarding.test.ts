import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { checkAccountConfig } from './account-config-check.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';

/** Issue 22 item 4: do not disturb, and call forwarding by 302 (RFC 3261 §21.3.3) followed by the caller (§8.1.3.4). */
describe('Phone do-not-disturb and forwarding', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  interface Agent {
    phone: Phone;
    events: PhoneEvent[];
    log: CallLogStore;
    last(id: string): CallSnapshot | undefined;
    incoming(): CallSnapshot[];
  }

  async function setUp(accounts: Record<string, Partial<AccountConfig>> = {}): Promise<Record<'alice' | 'bob' | 'carol', Agent>> {
    const network = new MemoryNetwork();
    const lab = await Lab.start({ users: { alice: {}, bob: {}, carol: {} }, timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const agents: Record<string, Agent> = {};
    for (const user of ['alice', 'bob', 'carol']) {
      const events: PhoneEvent[] = [];
      const log = CallLogStore.open(':memory:');
      const phone = new Phone({
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...accounts[user] }],
        callLog: log,
        createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
        timers: { t1: 100, t2: 400 },
        sockets: network,
      });
      phone.subscribe((e) => events.push(e));
      cleanup.push(() => log.close());
      cleanup.push(() => phone.shutdown());
      await phone.register();
      agents[user] = {
        phone,
        events,
        log,
        last: (id) => events.filter((e): e is Extract<PhoneEvent, { type: 'call' | 'incoming' }> => (e.type === 'call' || e.type === 'incoming') && e.call.id === id).at(-1)?.call,
        incoming: () => events.filter((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming').map((e) => e.call),
      };
    }
    return agents as Record<'alice' | 'bob' | 'carol', Agent>;
  }

  it('do not disturb refuses with the chosen status (603 or 486): logged, never ringing', async () => {
    const { alice, bob } = await setUp({ bob: { doNotDisturb: { status: 603 } } });
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => alice.last(call.id)?.state === 'terminated');
    expect(alice.last(call.id)).toMatchObject({ status: 603 });
    expect(bob.incoming()).toEqual([]);
    expect((await bob.phone.history()).calls).toMatchObject([{ direction: 'incoming', status: 603 }]);
    const settings = (await bob.phone.snapshot()).accounts[0]!;
    const registered = bob.events.length;
    await bob.phone.updateAccount({ ...settings, password: undefined, doNotDisturb: { status: 486 } } as AccountConfig);
    await until(() => bob.events.slice(registered).some((e) => e.type === 'registration' && e.registration.state === 'registered'));
    const again = await alice.phone.call({ target: 'bob' });
    await until(() => alice.last(again.id)?.state === 'terminated');
    expect(alice.last(again.id)).toMatchObject({ status: 486 });
    expect(() => checkAccountConfig({ ...settings, doNotDisturb: { status: 480 } })).toThrow(/doNotDisturb.status must be 486 or 603/);
  });

  it('forwards always with a 302 naming the target; the caller follows it and the target rings with the caller shown', async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'always', to: 'carol' } } });
    const call = await alice.phone.call({ target: 'bob' });
    const atCarol = await until(() => carol.incoming()[0]);
    expect(atCarol.remote.user).toBe('alice');
    // the same call goes on to carol (RFC 3261 §8.1.3.4), the redirection in its snapshot
    await until(() => alice.last(call.id)?.state === 'ringing');
    expect(alice.last(call.id)!.redirects).toMatchObject([{ status: 302, target: expect.stringMatching(/^sip:carol@/) }]);
    expect(bob.incoming()).toEqual([]); // forwarded at once: bob's phone never rang
    const bobLeg = bob.events.find((e) => e.type === 'call') as Extract<PhoneEvent, { type: 'call' }>;
    expect(bob.last(bobLeg.call.id)).toMatchObject({ status: 302, forwardedTo: expect.stringMatching(/^sip:carol@/) });
    expect(bob.log.getCall(bobLeg.call.id)!.messages.find((m) => m.dir === 'out' && m.raw.startsWith('SIP/2.0 302'))!.raw).toMatch(/\r\nContact: <sip:carol@[^>]+>\r\n/);
    // the history says forwarded, and to whom, not missed (issue 22 item 4)
    expect((await bob.phone.history()).calls).toMatchObject([{ id: bobLeg.call.id, result: 'forwarded', forwardedTo: expect.stringMatching(/^sip:carol@/) }]);
    expect((await bob.phone.history({ result: 'forwarded' })).calls).toHaveLength(1);
  });

  it('forwards when busy only while another call talks', async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'busy', to: 'carol' } } });
    // not busy: bob's phone rings
    const first = await alice.phone.call({ target: 'bob' });
    const ringing = await until(() => bob.incoming()[0]);
    await bob.phone.answer(ringing.id);
    await until(() => alice.last(first.id)?.state === 'established');
    // busy now: alice's second call is sent on to carol
    const second = await alice.phone.call({ target: 'bob' });
    await until(() => carol.incoming().some((c) => c.remote.user === 'alice'));
    expect(alice.last(second.id)!.redirects).toMatchObject([{ status: 302 }]);
    expect(bob.incoming()).toHaveLength(1);
  });

  it('forwards a call nobody answered after afterMs (ringing first)', async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'no-answer', to: 'carol', afterMs: 1000 } } });
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => bob.incoming()[0]); // it rings at bob first
    await until(() => carol.incoming()[0]);
    // the same call goes on to carol (RFC 3261 §8.1.3.4)
    expect(alice.last(call.id)!.state).not.toBe('terminated');
    expect(alice.last(call.id)!.redirects).toMatchObject([{ status: 302, target: expect.stringMatching(/^sip:carol@/) }]);
    const bobLeg = bob.incoming()[0]!;
    expect(bob.last(bobLeg.id)).toMatchObject({ state: 'terminated', status: 302, forwardedTo: expect.stringMatching(/^sip:carol@/) });
    expect(bob.log.getCall(bobLeg.id)).toMatchObject({ result: 'forwarded', forwardedTo: expect.stringMatching(/^sip:carol@/) });
  });

  it('forwards by placing the call: the caller rings on, the target answers the phone, and the caller is handed to it by REFER with Replaces', async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'always', to: 'carol', by: 'call' } }, carol: { answer: { kind: 'auto' } } });
    const call = await alice.phone.call({ target: 'bob' });
    // carol is called by bob's phone, answers by herself, and then alice's new call takes that call's place (RFC 3891 §3)
    // (a call that replaces another does not ring: RFC 3891 §3)
    const replacing = await until(() => carol.events.find((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.remote.user === 'alice')?.call);
    expect(carol.incoming()[0]!.remote.user).toBe('bob');
    await until(() => carol.last(replacing.id)?.state === 'established');
    expect(carol.last(replacing.id)!.replaced).toBe(carol.incoming()[0]!.id);
    // alice heard ringing (no 302), was answered, and was moved by the REFER: her new call talks to carol
    const aliceStates = alice.events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === call.id).map((e) => e.call.state);
    expect(aliceStates).toContain('ringing');
    expect(alice.last(call.id)!.redirects).toBeUndefined();
    await until(() => alice.last(call.id)?.state === 'terminated');
    expect(alice.last(call.id)!.transfer).toMatchObject({ role: 'transferee', state: 'succeeded', attended: true });
    const moved = alice.events.find((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.transferredFrom === call.id)!.call;
    await until(() => alice.last(moved.id)?.state === 'established');
    // bob's phone is out of both calls, and never rang
    await until(() => ['incoming', 'outgoing'].every((direction) => bob.events.some((e) => e.type === 'call' && e.call.direction === direction && e.call.state === 'terminated')));
    expect((await bob.phone.snapshot()).calls).toEqual([]);
    expect(bob.incoming()).toEqual([]);
    const history = (await bob.phone.history()).calls;
    expect(history.map((c) => [c.direction, c.result, c.forwardedTo?.replace(/@.*/, '')]).sort()).toEqual([
      ['incoming', 'forwarded', 'sip:carol'],
      ['outgoing', 'forwarded', 'sip:carol'],
    ]);
    // bob's REFER named alice's call to carol... and the 302 was never sent
    const bobIncoming = history.find((c) => c.direction === 'incoming')!;
    const messages = bob.log.getCall(bobIncoming.id)!.messages;
    expect(messages.some((m) => m.dir === 'out' && m.raw.startsWith('SIP/2.0 302'))).toBe(false);
    expect(messages.find((m) => m.dir === 'out' && m.raw.startsWith('REFER '))!.raw).toMatch(/\r\nRefer-To: <sip:carol@[^>]*\?Replaces=/i);
  });

  it('forwards by placing the call only once the target answers: a busy target is passed on to the caller', async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'always', to: 'carol', by: 'call' } }, carol: { doNotDisturb: { status: 486 } } });
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => alice.last(call.id)?.state === 'terminated');
    expect(alice.last(call.id)).toMatchObject({ status: 486 });
    expect(alice.last(call.id)!.redirects).toBeUndefined(); // refused by bob's phone, not followed to carol by a 302
    expect(carol.incoming()).toEqual([]);
    expect((await bob.phone.history({ direction: 'outgoing' })).calls).toMatchObject([{ status: 486, forwardedTo: expect.stringMatching(/^sip:carol@/) }]);
  });

  it("forwards by placing the call after ringing unanswered (no-answer): the user's phone rang first, then the caller is handed to the target", async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'no-answer', to: 'carol', afterMs: 1000, by: 'call' } }, carol: { answer: { kind: 'auto' } } });
    const call = await alice.phone.call({ target: 'bob' });
    const rang = await until(() => bob.incoming()[0]); // it rings at bob first
    // after afterMs the ringing call is marked forwarded (the UI drops it, and stops ringing) while carol is called
    // (any event of the call, not only its latest: a fast hand-over may already have ended it; bounds wide for a loaded machine)
    await until(() => bob.events.some((e) => e.type === 'call' && e.call.id === rang.id && e.call.state === 'incoming' && e.call.forwardedTo?.startsWith('sip:carol@')), 15_000);
    await until(() => carol.events.some((e) => e.type === 'call' && e.call.remote.user === 'alice' && e.call.state === 'established'), 15_000);
    await until(() => alice.last(call.id)?.state === 'terminated');
    expect(alice.last(call.id)).toMatchObject({ transfer: { role: 'transferee', state: 'succeeded' } });
    expect(alice.last(call.id)!.redirects).toBeUndefined();
    await until(() => bob.last(rang.id)?.state === 'terminated');
    expect(bob.log.getCall(rang.id)).toMatchObject({ result: 'forwarded' });
  });

  it('forwards by placing the call when busy: the talking call is not touched', async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'busy', to: 'carol', by: 'call' } }, carol: { answer: { kind: 'auto' } } });
    const first = await alice.phone.call({ target: 'bob' });
    await bob.phone.answer((await until(() => bob.incoming()[0])).id);
    await until(() => alice.last(first.id)?.state === 'established');
    const second = await alice.phone.call({ target: 'bob' });
    await until(() => alice.last(second.id)?.transfer?.state === 'succeeded');
    await until(() => carol.events.some((e) => e.type === 'call' && e.call.remote.user === 'alice' && e.call.state === 'established'));
    expect(bob.incoming()).toHaveLength(1);
    // bob's own call goes on, neither held nor muted
    const talking = bob.incoming()[0]!;
    expect(bob.last(talking.id)).toMatchObject({ state: 'established', localHold: false, muted: false });
  });

  it('a forwarding call still ringing at the target is cancelled when the user answers after all', async () => {
    const { alice, bob, carol } = await setUp({ bob: { forward: { when: 'no-answer', to: 'carol', afterMs: 1000, by: 'call' } } });
    const call = await alice.phone.call({ target: 'bob' });
    const rang = await until(() => bob.incoming()[0]);
    const atCarol = await until(() => carol.incoming()[0]); // forwarding started: carol rings
    await bob.phone.answer(rang.id);
    await until(() => carol.last(atCarol.id)?.state === 'terminated');
    await until(() => alice.last(call.id)?.state === 'established');
    expect(alice.last(call.id)!.transfer).toBeUndefined();
  });
});
