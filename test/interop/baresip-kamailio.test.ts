import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import type { Phone } from '../../core/phone/phone.js';
import type { Baresip } from '../support/baresip.js';
import { BaresipThroughKamailio } from '../support/baresip-through-kamailio.js';
import type { KamailioServer } from '../support/kamailio.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['baresip', 'kamailio']);

/**
 * Issue 19, "Real peers in CI": baresip (Debian baresip-core) and a Veilphone phone, both registered with Kamailio
 * (deploy/kamailio) over UDP: calls both ways with audio both ways, hold and resume from each side, RFC 4733 DTMF both
 * ways. (Early media and a peer that requires 100rel are items 4-5, done elsewhere.)
 */
describe.skipIf(skip)('baresip and a Veilphone phone through Kamailio', () => {
  let pair: BaresipThroughKamailio | undefined;
  let kamailio: KamailioServer;
  let carol: Baresip;
  let bob: Phone;
  let events: PhoneEvent[] = [];

  beforeAll(async () => {
    pair = await BaresipThroughKamailio.start({ answermode: 'auto', phoneAnswer: { kind: 'auto' } });
    ({ kamailio, carol, bob, events } = pair);
  }, 60_000);

  afterAll(async () => {
    await pair?.stop();
  });

  const live = async (id: string): Promise<CallSnapshot> => (await bob.snapshot()).calls.find((c) => c.id === id)!;
  /** Until bob has received `more` RTP packets beyond what he had. */
  const hears = async (id: string, more = 25): Promise<void> => {
    const before = (await live(id)).media?.packetsReceived ?? 0;
    for (let i = 0; i < 200; i++) {
      if (((await live(id)).media?.packetsReceived ?? 0) >= before + more) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`bob heard fewer than ${more} RTP packets more than ${before} within 10 s`);
  };
  const latest = (id: string): CallSnapshot | undefined => events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : [])).at(-1);

  it('the phone calls baresip: audio both ways, hold and resume from each side, DTMF both ways, the phone hangs up', async () => {
    const placed = await bob.call({ target: 'carol' });
    await until(() => latest(placed.id)?.state === 'established' || undefined, 15_000);
    await carol.event('CALL_ESTABLISHED');
    await hears(placed.id);
    expect((await live(placed.id)).media).toMatchObject({ codec: expect.stringMatching(/^PCM[UA]$/) });
    expect((await live(placed.id)).media!.packetsSent).toBeGreaterThan(0);

    // the phone holds and resumes (its re-INVITEs answered 2xx, or hold() throws)
    await bob.hold(placed.id, true);
    expect(latest(placed.id)).toMatchObject({ localHold: true });
    await bob.hold(placed.id, false);
    expect(latest(placed.id)).toMatchObject({ localHold: false });
    await hears(placed.id);

    // baresip holds and resumes
    expect((await carol.command('hold')).ok).toBe(true);
    await until(() => latest(placed.id)?.remoteHold === true || undefined, 10_000);
    expect((await carol.command('resume')).ok).toBe(true);
    await until(() => latest(placed.id)?.remoteHold === false || undefined, 10_000);
    await hears(placed.id);

    // DTMF: the phone to baresip (RFC 4733), then baresip to the phone
    const from = carol.events.length;
    await bob.sendDtmf(placed.id, '159');
    for (const digit of '159') await carol.event('CALL_DTMF_START', { param: digit, from });
    const heard: string[] = [];
    bob.subscribe((e) => e.type === 'dtmf' && e.callId === placed.id && heard.push(e.digit));
    await carol.keys('37');
    await until(() => heard.join('') === '37' || undefined, 10_000).catch((error: Error) => {
      throw new Error(`${error.message}: the phone heard "${heard.join('')}"\n${carol.child.stdout.slice(-3000)}`);
    });

    await bob.hangup(placed.id);
    await carol.event('CALL_CLOSED');
  });

  it('baresip calls the phone, which answers; baresip hangs up', async () => {
    const from = carol.events.length;
    expect((await carol.command('dial', `sip:bob@127.0.0.1:${kamailio.port}`)).ok).toBe(true);
    await carol.event('CALL_ESTABLISHED', { from });
    const call = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.direction === 'incoming' && e.call.state === 'established' ? [e.call] : []))[0], 10_000);
    await hears(call.id);
    expect((await carol.command('hangup')).ok).toBe(true);
    await until(() => latest(call.id)?.state === 'terminated' || undefined, 10_000);
    expect(latest(call.id)).toMatchObject({ endedBy: 'remote', status: 200 });
  });
});
