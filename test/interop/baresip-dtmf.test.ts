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
 * Issue 18, "Real peers": DTMF both ways between baresip (Debian baresip-core 1.0.0, unmodified) and a Veilphone
 * phone through Kamailio, the digits received in the order sent. baresip 1.0.0 receives RFC 4733 telephone-events and
 * SIP INFO (application/dtmf-relay, its `Signal=[0-9*#a-d]+`), but sends DTMF only as RFC 4733 events (its only sender
 * is audio.c's "send DTMF digit"; sending INFO (call.c send_dtmf_info) came in later baresip versions): so the
 * phone → baresip direction is checked with both methods, baresip → the phone with RFC 4733 only.
 */
describe.skipIf(skip)('DTMF between baresip and a Veilphone phone', () => {
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

  const latest = (id: string): CallSnapshot | undefined => events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : [])).at(-1);
  /** The digits baresip reported (CALL_DTMF_START), in order, after its first `from` events. */
  const carolHeard = (from: number): string =>
    carol.events
      .slice(from)
      .filter((e) => e.type === 'CALL_DTMF_START')
      .map((e) => e.param)
      .join('');
  /** The digits the phone reported for a call, in order, from its `from`-th event on. */
  const bobHeard = (id: string, from: number): string =>
    events
      .slice(from)
      .flatMap((e) => (e.type === 'dtmf' && e.callId === id ? [e.digit] : []))
      .join('');

  it.each([
    ['RFC 4733 telephone-events', 'rfc4733', '159*0#'],
    ['SIP INFO (application/dtmf-relay)', 'info', '#7*3908'],
  ] as const)('the phone sends DTMF as %s: baresip reports the digits in order', async (_name, method, digits) => {
    const placed = await bob.call({ target: 'carol' });
    await until(() => latest(placed.id)?.state === 'established' || undefined, 15_000);
    await carol.event('CALL_ESTABLISHED', { from: carol.events.length - 1 });
    const from = carol.events.length;
    const mark = carol.child.stdout.length;
    await bob.sendDtmf(placed.id, digits, method);
    await until(() => carolHeard(from).length >= digits.length || undefined, 15_000).catch((error: Error) => {
      throw new Error(`${error.message}: baresip heard "${carolHeard(from)}"\n${carol.child.stdout.slice(mark)}`);
    });
    expect(carolHeard(from)).toBe(digits);
    // INFO digits reach baresip's call.c INFO handler, which names each one with its Duration (ours is 160 ms)
    if (method === 'info') expect(carol.child.stdout.slice(mark)).toMatch(/received DTMF: '#' \(duration=160\)/);
    await bob.hangup(placed.id);
    await carol.event('CALL_CLOSED', { from });
  });

  it('baresip sends RFC 4733 telephone-events (its only DTMF method) on a call it placed: the phone reports the digits in order', async () => {
    const from = carol.events.length;
    const mark = events.length;
    expect((await carol.command('dial', `sip:bob@127.0.0.1:${kamailio.port}`)).ok).toBe(true);
    await carol.event('CALL_ESTABLISHED', { from });
    const call = await until(() => events.slice(mark).flatMap((e) => (e.type === 'call' && e.call.direction === 'incoming' && e.call.state === 'established' ? [e.call] : []))[0], 10_000);
    const digits = '2*80#5';
    await carol.keys(digits);
    await until(() => bobHeard(call.id, mark).length >= digits.length || undefined, 10_000).catch((error: Error) => {
      throw new Error(`${error.message}: the phone heard "${bobHeard(call.id, mark)}"\n${carol.child.stdout.slice(-3000)}`);
    });
    expect(bobHeard(call.id, mark)).toBe(digits);
    expect((await bob.snapshot()).calls.find((c) => c.id === call.id)?.media?.dtmfReceived).toBe(digits);
    expect((await carol.command('hangup')).ok).toBe(true);
    await until(() => latest(call.id)?.state === 'terminated' || undefined, 10_000);
  });
});
