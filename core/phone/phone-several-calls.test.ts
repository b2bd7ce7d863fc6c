import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { ToneSource } from '../media/audio-frame.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

/** Issue 22 item 2: a second call while one is talking. SIP through the in-memory network; the RTP is real. */
describe('Phone with several calls', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setUp(): Promise<{ phones: Record<string, Phone>; events: Record<string, PhoneEvent[]>; last: (who: string, id: string) => CallSnapshot | undefined }> {
    const lab = await Lab.start({ users: { alice: {}, bob: {}, carol: {} }, timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const events: Record<string, PhoneEvent[]> = {};
    const phones: Record<string, Phone> = {};
    for (const user of ['alice', 'bob', 'carol']) {
      events[user] = [];
      const phone = new Phone({
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain }],
        createSessionDescriptionHandlerFactory: defaultMediaProvider,
        timers: { t1: 100, t2: 400 },
        sockets: network,
        audioPort: user === 'bob',
      });
      phone.subscribe((e) => events[user]!.push(e));
      cleanup.push(() => phone.shutdown());
      await phone.register();
      phones[user] = phone;
    }
    const last = (who: string, id: string): CallSnapshot | undefined =>
      events[who]!.filter((e): e is Extract<PhoneEvent, { type: 'call' | 'incoming' }> => (e.type === 'call' || e.type === 'incoming') && e.call.id === id).at(-1)?.call;
    return { phones, events, last };
  }

  const incomingFrom = (events: PhoneEvent[], user: string): CallSnapshot | undefined =>
    (events.find((e) => e.type === 'incoming' && e.call.remote.user === user) as Extract<PhoneEvent, { type: 'incoming' }> | undefined)?.call;

  it('answering a waiting call holds the talking one (re-INVITE), resuming swaps back, the audio goes to the call that talks, and ending one leaves the other held until resumed', async () => {
    const { phones, events, last } = await setUp();
    const { alice, bob, carol } = phones as Record<'alice' | 'bob' | 'carol', Phone>;
    const fromAlice = await alice.call({ target: 'bob' });
    const bobAlice = await until(() => incomingFrom(events.bob!, 'alice'));
    await bob.answer(bobAlice.id);
    await until(() => last('alice', fromAlice.id)?.state === 'established');
    alice.mediaOf(fromAlice.id)!.play(new ToneSource(700));

    // A second call arrives while bob talks to alice: it waits, ringing, and the first goes on.
    const fromCarol = await carol.call({ target: 'bob' });
    const bobCarol = await until(() => incomingFrom(events.bob!, 'carol'));
    expect((await bob.snapshot()).calls.map((c) => [c.remote.user, c.state])).toEqual([
      ['alice', 'established'],
      ['carol', 'incoming'],
    ]);
    await bob.answer(bobCarol.id);
    await until(() => last('carol', fromCarol.id)?.state === 'established');
    carol.mediaOf(fromCarol.id)!.play(new ToneSource(1300));
    // RFC 3264 §8.4: alice was held by a sendonly offer before carol's call was answered.
    expect(last('bob', bobAlice.id)).toMatchObject({ state: 'established', localHold: true });
    await until(() => last('alice', fromAlice.id)?.remoteHold);
    const played = new Map<string, number>();
    bob.audio!.onPlayback((callId) => played.set(callId, (played.get(callId) ?? 0) + 1));
    // The audio port carries carol now; alice (held, answering recvonly) sends nothing.
    await until(() => (bob.mediaOf(bobCarol.id)?.recent.toneShare(1300) ?? 0) > 0.8);
    const heldBefore = bob.mediaOf(bobAlice.id)!.stats().packetsReceived;
    await until(() => (played.get(bobCarol.id) ?? 0) > 20);
    expect(bob.mediaOf(bobAlice.id)!.stats().packetsReceived - heldBefore).toBeLessThanOrEqual(2);

    // Swap: resuming alice holds carol first.
    await bob.hold(bobAlice.id, false);
    expect(last('bob', bobCarol.id)).toMatchObject({ localHold: true });
    expect(last('bob', bobAlice.id)).toMatchObject({ localHold: false });
    await until(() => last('carol', fromCarol.id)?.remoteHold && last('alice', fromAlice.id)?.remoteHold === false);
    await until(() => (bob.mediaOf(bobAlice.id)?.recent.toneShare(700) ?? 0) > 0.8);

    // Alice hangs up: carol stays held until bob resumes her.
    await alice.hangup(fromAlice.id);
    await until(() => last('bob', bobAlice.id)?.state === 'terminated');
    expect((await bob.snapshot()).calls.map((c) => [c.remote.user, c.localHold])).toEqual([['carol', true]]);
    await bob.hold(bobCarol.id, false);
    await until(() => last('carol', fromCarol.id)?.remoteHold === false);
  });

  it('answers a waiting call by ending the talking one when asked, and refuses to answer a call that is not ringing', async () => {
    const { phones, events, last } = await setUp();
    const { alice, bob, carol } = phones as Record<'alice' | 'bob' | 'carol', Phone>;
    const fromAlice = await alice.call({ target: 'bob' });
    const bobAlice = await until(() => incomingFrom(events.bob!, 'alice'));
    await bob.answer(bobAlice.id);
    await expect(bob.answer(bobAlice.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await carol.call({ target: 'bob' });
    const bobCarol = await until(() => incomingFrom(events.bob!, 'carol'));
    await bob.answer(bobCarol.id, 'hangup');
    await until(() => last('alice', fromAlice.id)?.state === 'terminated');
    expect(last('alice', fromAlice.id)).toMatchObject({ endedBy: 'remote' });
    expect(last('bob', bobCarol.id)).toMatchObject({ state: 'established', localHold: false });
  });
});
