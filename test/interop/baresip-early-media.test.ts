import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import type { Phone } from '../../core/phone/phone.js';
import type { Baresip } from '../support/baresip.js';
import { BaresipThroughKamailio } from '../support/baresip-through-kamailio.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['baresip', 'kamailio']);

/**
 * Issue 19 item 4 with baresip (Debian baresip-core 1.0.0, unmodified) through Kamailio: its account's
 * `answermode=early` answers an incoming INVITE with 183 Session Progress carrying SDP before it is told to `accept`.
 * The phone, as caller, takes the 183's answer as early media (RFC 3960 §3: flags the call `earlyMedia` while it
 * rings, its stream set to baresip's address), and after the 200 its tone detector hears baresip's 440 Hz.
 *
 * Not here, because baresip 1.0.0 cannot: audio before the 200. Its early answer (call_progress) starts the streams
 * before it has read the offer's media ("call: stream start (active=0)" and no "audio: start" in its `-v` log), so it
 * sends no RTP until `accept`. The phone hearing early media before
 * the 200 is proven with linphonec (linphonec-early-media-100rel.test.ts) and SIPp (sipp-100rel.test.ts).
 * Nor 100rel: neither baresip 1.0.0 nor its libre 1.1.0 knows the option tag (no "100rel" or "PRACK" in either
 * binary, no account parameter for it), so it never sends `Require: 100rel` nor a reliable 18x, and it refuses an
 * INVITE that requires an option tag it does not support with 420 (its log line "rejected with 420 -- option-tag … not
 * supported"; not run here).
 */
describe.skipIf(skip)('early media (183 with SDP) from baresip to a Veilphone phone', () => {
  let pair: BaresipThroughKamailio | undefined;
  let carol: Baresip;
  let bob: Phone;
  let events: PhoneEvent[] = [];

  beforeAll(async () => {
    pair = await BaresipThroughKamailio.start({ answermode: 'early' });
    ({ carol, bob, events } = pair);
  }, 60_000);

  afterAll(async () => {
    await pair?.stop();
  });

  const snapshots = (id: string): CallSnapshot[] => events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : []));

  it('baresip answers 183 with SDP before the 200: the phone flags earlyMedia while it rings, then hears baresip after the 200', async () => {
    const placed = await bob.call({ target: 'carol' });
    const early = await until(() => snapshots(placed.id).find((s) => s.earlyMedia === true), 15_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(snapshots(placed.id).at(-1))}\n${carol.child.stdout.slice(-3000)}`);
    });
    expect(early.state).toBe('ringing');
    // the early stream already points at baresip's media address, from the 183's SDP
    const media = await until(() => bob.mediaOf(placed.id), 10_000);
    expect(media.stats().remoteRtp).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(carol.events.some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);

    expect((await carol.command('accept')).ok).toBe(true);
    await until(() => (snapshots(placed.id).at(-1)?.state === 'established' ? true : undefined), 15_000);
    expect(snapshots(placed.id).at(-1)?.earlyMedia).toBeUndefined();
    await until(() => (media.recent.toneShare(440) > 0.8 ? true : undefined), 15_000).catch((error: Error) => {
      throw new Error(`${error.message}: after the answer the phone heard ${JSON.stringify(media.stats())}\n${carol.child.stdout.slice(-3000)}`);
    });

    await bob.hangup(placed.id);
    await carol.event('CALL_CLOSED');
  });
});
