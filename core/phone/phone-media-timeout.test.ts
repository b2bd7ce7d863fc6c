import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { createPlainRtpMediaProvider } from '../media/plain-rtp-sdh.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** RTCP every 2.5 s: more often than the held limit below, less often than its talking one. */
const media = createPlainRtpMediaProvider({ latch: true, rtcpIntervalMs: 2500 });

/** SIP through the in-memory network, RTP on loopback: a far end that goes quiet (its media closed, its call left up). */
describe('Phone media timeout', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function talking(mediaTimeout: AccountConfig['mediaTimeout']): Promise<{ alice: Phone; bob: Phone; callId: string; bobLeg: string; last: (who: 'alice' | 'bob', id: string) => CallSnapshot | undefined }> {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const events: Record<string, PhoneEvent[]> = { alice: [], bob: [] };
    const make = (user: 'alice' | 'bob', extra: Partial<AccountConfig>): Phone => {
      const phone = new Phone({
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...extra }],
        createSessionDescriptionHandlerFactory: media,
        timers: { t1: 100, t2: 400 },
        sockets: network,
      });
      phone.subscribe((e) => events[user]!.push(e));
      cleanup.push(() => phone.shutdown());
      return phone;
    };
    const alice = make('alice', { mediaTimeout });
    const bob = make('bob', { answer: { kind: 'auto' }, mediaTimeout: { seconds: 0, heldSeconds: 0 } });
    await alice.register();
    await bob.register();
    const last = (who: 'alice' | 'bob', id: string): CallSnapshot | undefined =>
      events[who]!.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;
    const call = await alice.call({ target: 'bob' });
    await until(() => last('alice', call.id)?.state === 'established');
    const bobLeg = (events.bob!.find((e) => e.type === 'incoming') as Extract<PhoneEvent, { type: 'incoming' }>).call.id;
    await until(() => (alice.mediaOf(call.id)?.stats().packetsReceived ?? 0) > 10);
    return { alice, bob, callId: call.id, bobLeg, last };
  }
  const ended = (last: (who: 'alice' | 'bob', id: string) => CallSnapshot | undefined, id: string): CallSnapshot | undefined => (last('alice', id)?.state === 'terminated' ? last('alice', id) : undefined);

  it('ends an answered call whose far end went quiet with a BYE, and says why (call event, call log)', async () => {
    const { alice, bob, callId, bobLeg, last } = await talking({ seconds: 3 });
    await sleep(4000);
    expect(last('alice', callId)?.state).toBe('established'); // audio flows: no end however long
    bob.mediaOf(bobLeg)!.close(); // bob's host goes quiet on the network; its call is left up
    const quietAt = Date.now();
    const end = await until(() => ended(last, callId), 8000);
    expect(end).toMatchObject({ endedBy: 'network', endCause: { kind: 'no-media', seconds: 3 }, status: 200 });
    expect(end.endedAt! - quietAt).toBeGreaterThanOrEqual(2500);
    // the BYE reached bob, whose own timeout is off: the call is over at both ends
    await until(() => last('bob', bobLeg)?.state === 'terminated');
    expect(last('bob', bobLeg)).toMatchObject({ endedBy: 'remote' });
    const logged = await alice.callDetail(callId);
    expect(logged).toMatchObject({ result: 'answered', endedBy: 'network', endCause: { kind: 'no-media', seconds: 3 } });
    expect(logged!.reason).toBe('OK'); // the network's words stay the network's
  });

  it('a held call (RTCP only, every 2.5 s) lives on past the talking limit, and past the held one while RTCP comes; it ends once that stops too', async () => {
    const { alice, bob, callId, bobLeg, last } = await talking({ seconds: 2, heldSeconds: 5 });
    await alice.hold(callId, true);
    await sleep(6000); // past both limits, with no RTP from bob (recvonly) but his RTCP
    expect(last('alice', callId)).toMatchObject({ state: 'established', localHold: true });
    bob.mediaOf(bobLeg)!.close(); // not even RTCP now
    const quietAt = Date.now();
    const end = await until(() => ended(last, callId), 10_000);
    expect(end).toMatchObject({ endedBy: 'network', endCause: { kind: 'no-media', seconds: 5 } });
    expect(end.endedAt! - quietAt).toBeGreaterThanOrEqual(2500); // at least the held limit less the RTCP gap before
  });

  it('is off with seconds 0: a quiet far end keeps the call', async () => {
    const { alice, bob, callId, bobLeg, last } = await talking({ seconds: 0 });
    bob.mediaOf(bobLeg)!.close();
    await sleep(2500);
    expect(last('alice', callId)?.state).toBe('established');
    await alice.hangup(callId);
  });
});
