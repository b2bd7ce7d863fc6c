import { afterEach, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { KamailioServer } from '../support/kamailio.js';
import { Linphonec } from '../support/linphonec.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['linphonec', 'kamailio']);

/**
 * Session timers (RFC 4028) with Linphone's console client through Kamailio, both asking for 10 s intervals (our Min-SE
 * 5 s): Linphone 5 refreshes by UPDATE whatever our Allow says (RFC 3311), and before tools/postinstall/sipjs-update.js the phone
 * answered 405 and ended the call when its session expired (6.7 s). Calls both ways live through several refreshes.
 */
describe.skipIf(skip)('session timers with linphonec through Kamailio', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setup(autoAnswer: boolean): Promise<{ kamailio: KamailioServer; dave: Linphonec; bob: Phone; events: PhoneEvent[]; received: string[] }> {
    const kamailio = await KamailioServer.start();
    cleanup.push(() => kamailio.stop());
    const dave = await Linphonec.start('dave', `127.0.0.1:${kamailio.port}`, { autoAnswer, sessionTimer: { seconds: 10, minSe: 5 } });
    cleanup.push(() => dave.stop());
    const received: string[] = [];
    const bob = new Phone({
      timers: { t1: 500, t2: 4000, minSessionExpires: 5 },
      accounts: [{ id: 'bob', user: 'bob', server: kamailio.servers.udp, transport: 'udp', answer: { kind: 'auto' }, sessionExpires: 10 }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      onTrace: (_account, entry) => entry.dir === 'in' && received.push(entry.raw),
    });
    cleanup.push(() => bob.shutdown());
    const events: PhoneEvent[] = [];
    bob.subscribe((e) => events.push(e));
    await bob.register();
    return { kamailio, dave, bob, events, received };
  }
  const latest = (events: PhoneEvent[], id: string): CallSnapshot | undefined => events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : [])).at(-1);
  /** The session refreshes linphonec sent in the call: UPDATE or re-INVITE. */
  const refreshes = (received: string[], callId: string): string[] => received.filter((raw) => /^(UPDATE|INVITE) /.test(raw) && raw.includes(callId) && /^To:.*;tag=/im.test(raw)).map((raw) => raw.split(' ')[0]!);

  it('linphonec calls the phone: its UPDATE refreshes are taken and the call outlives 17 s (without a refresh its session ends at 6.7 s)', async () => {
    const { kamailio, dave, events, received } = await setup(false);
    dave.send(`call sip:bob@127.0.0.1:${kamailio.port}`);
    const call = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.direction === 'incoming' && e.call.state === 'established' ? [e.call] : []))[0], 15_000);
    await new Promise((resolve) => setTimeout(resolve, 17_000));
    expect(latest(events, call.id)?.state).toBe('established');
    expect(refreshes(received, call.sipCallId).filter((method) => method === 'UPDATE').length).toBeGreaterThanOrEqual(2);
    dave.send('terminate');
    await until(() => latest(events, call.id)?.state === 'terminated' || undefined, 10_000);
    expect(latest(events, call.id)).toMatchObject({ endedBy: 'remote' });
  }, 60_000);

  it('the phone calls linphonec, both asking for a timer: the call outlives 17 s (without a refresh its session ends at 6.7 s), whoever refreshes and however', async () => {
    const { bob, events, received } = await setup(true);
    const placed = await bob.call({ target: 'dave' });
    await until(() => latest(events, placed.id)?.state === 'established' || undefined, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 17_000));
    expect(latest(events, placed.id)?.state).toBe('established');
    expect((await bob.snapshot()).calls.find((c) => c.id === placed.id)?.state).toBe('established');
    expect(refreshes(received, placed.sipCallId).length).toBeGreaterThanOrEqual(2); // linphonec refreshes (the callee: refresher=uas)
    await bob.hangup(placed.id);
    await until(() => latest(events, placed.id)?.state === 'terminated' || undefined, 10_000);
    expect(latest(events, placed.id)).toMatchObject({ endedBy: 'local' });
  }, 60_000);
});
