import { afterEach, describe, expect, it } from 'vitest';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { Lab } from '../../lab/lab.js';
import { freePort } from '../support/free-port.js';
import { sippListening, sippOutput, startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['sipp']);

/**
 * Session timers (RFC 4028) against SIPp scenarios that check every header RFC 4028 asks of the phone (check_it: a
 * response or request without it fails SIPp's call, and SIPp exits non-zero): as callee (422 below Min-SE, the 2xx,
 * a refresh), and as caller whose callee names it refresher, or refreshes itself and goes silent.
 */
describe.skipIf(skip)('session timers (RFC 4028) with SIPp', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** `minSessionExpires`: our Min-SE in seconds (90 by default; 2 lets SIPp's 4-6 s intervals through). */
  function phone(account: Partial<AccountConfig> & Pick<AccountConfig, 'server'>, minSessionExpires?: number): { phone: Phone; events: PhoneEvent[] } {
    const p = new Phone({
      ...(minSessionExpires !== undefined ? { timers: { t1: 500, t2: 4000, minSessionExpires } } : {}),
      // SIPp sends no RTP: the media timeout is not what these calls are about
      accounts: [{ id: 'bob', user: 'bob', transport: 'udp', mediaTimeout: { seconds: 0 }, ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    cleanup.push(() => p.shutdown());
    const events: PhoneEvent[] = [];
    p.subscribe((e) => events.push(e));
    return { phone: p, events };
  }
  const last = (events: PhoneEvent[], id: string): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;

  it('as callee: 422 with Min-SE: 90 for a 30 s interval, then the 2xx names the caller refresher and requires the timer, and a refresh gets it back', async () => {
    const lab = await Lab.start();
    cleanup.push(() => lab.stop());
    const bob = phone({ server: lab.servers.udp!, domain: lab.domain, directCalls: true, answer: { kind: 'auto' } });
    const contact = /@([^;>]+)/.exec((await bob.phone.register()).contact!)![1]!;
    const sipp = startSipp({ scenario: 'uac-session-timer.xml', remote: contact, localPort: await freePort(), service: 'bob', mediaPort: await freePort() });
    cleanup.push(() => sipp.stop());
    expect(await sipp.exitCode(30_000), sippOutput(sipp)).toBe(0);
    // one call in the history, answered: the 422 was a step of it (SIPp asks again with the same Call-ID and From tag),
    // and its trace holds the whole exchange, the refused INVITE first
    const calls = (await bob.phone.history({ direction: 'incoming' })).calls;
    expect(calls.map((c) => c.status)).toEqual([200]);
    const trace = (await bob.phone.callDetail(calls[0]!.id))!.messages.map((m) => `${m.dir} ${m.raw.split('\r\n')[0]}`);
    expect(trace.slice(0, 4)).toEqual([expect.stringMatching(/^in INVITE /), 'out SIP/2.0 422 Session Interval Too Small', expect.stringMatching(/^in ACK /), expect.stringMatching(/^in INVITE /)]);
    expect(bob.events.filter((e) => e.type === 'incoming')).toHaveLength(1);
  });

  it.each(['udp', 'tcp'] as const)('as caller named refresher by the 2xx (%s): sends a refresh re-INVITE at half the interval that carries the timer on and the session unchanged (its o= version too)', async (transport) => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas-session-timer.xml', localPort: uasPort, mediaPort: await freePort(), keys: { se: '4' }, transport: transport === 'udp' ? 'u1' : 't1' });
    cleanup.push(() => uas.stop());
    if (transport === 'tcp') await sippListening(uasPort, uas);
    const bob = phone({ server: `sip:127.0.0.1:${uasPort};transport=${transport}`, domain: '127.0.0.1', transport }, 2);
    const placed = await bob.phone.call({ target: `sip:service@127.0.0.1:${uasPort};transport=${transport}` });
    await until(() => last(bob.events, placed.id)?.state === 'established', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 3200)); // the refresh is due 2 s after the answer
    await bob.phone.hangup(placed.id);
    expect(await uas.exitCode(20_000), sippOutput(uas)).toBe(0);
    expect(last(bob.events, placed.id)).toMatchObject({ state: 'terminated', endedBy: 'local' });
  });

  it.each([
    ['udp', '127.0.0.1'],
    ['tcp', '::1'],
  ] as const)('as caller asking for a timer (the account\'s sessionExpires), over %s to %s: asks again, with the same From tag, for the Min-SE a 422 names, and refreshes carry it on', async (transport, address) => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas-session-timer-422.xml', localAddress: address, localPort: uasPort, mediaPort: await freePort(), transport: transport === 'udp' ? 'u1' : 't1' });
    cleanup.push(() => uas.stop());
    if (transport === 'tcp') await sippListening(uasPort, uas, address);
    const host = address.includes(':') ? `[${address}]` : address;
    const bob = phone({ server: `sip:${host}:${uasPort};transport=${transport}`, domain: host, transport, sessionExpires: 3 }, 2);
    const placed = await bob.phone.call({ target: `sip:service@${host}:${uasPort};transport=${transport}` });
    await until(() => last(bob.events, placed.id)?.state === 'established', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 3200)); // the refresh is due 2 s after the answer
    await bob.phone.hangup(placed.id);
    expect(await uas.exitCode(20_000), sippOutput(uas)).toBe(0);
    // one call in the history, answered: the 422 was a step of it, not a call of its own
    const calls = (await bob.phone.history({ direction: 'outgoing' })).calls;
    expect(calls.map((c) => [c.result, c.status])).toEqual([['answered', 200]]);
  });

  it.each([
    ['udp', '127.0.0.1'],
    ['tcp', '127.0.0.1'],
    ['udp', '::1'],
    ['tcp', '::1'],
  ] as const)('as callee of a caller that refreshes by UPDATE though our Allow lacks it (as Linphone 5), over %s to %s: the 200 carries the timer', async (transport, address) => {
    const lab = await Lab.start({ address });
    cleanup.push(() => lab.stop());
    const bob = phone({ server: lab.servers[transport]!, domain: lab.domain, transport, directCalls: true, answer: { kind: 'auto' } });
    const contact = /@([^;>]+)/.exec((await bob.phone.register()).contact!)![1]!;
    if (address === '::1') expect(contact).toMatch(/^\[::1\]:\d+$/); // an IPv6 literal in the Contact SIPp calls
    const sipp = startSipp({ scenario: 'uac-session-refresh-update.xml', remote: contact, localAddress: address, localPort: await freePort(), service: 'bob', transport: transport === 'udp' ? 'u1' : 't1', mediaPort: await freePort() });
    cleanup.push(() => sipp.stop());
    expect(await sipp.exitCode(30_000), sippOutput(sipp)).toBe(0);
  });

  it('as caller whose callee refreshes and goes silent: ends the call with a BYE before the session expires, and says why', async () => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas-session-timer-silent.xml', localPort: uasPort, mediaPort: await freePort(), keys: { se: '6' } });
    cleanup.push(() => uas.stop());
    const bob = phone({ server: `sip:127.0.0.1:${uasPort}`, domain: '127.0.0.1' }, 2);
    const placed = await bob.phone.call({ target: `sip:service@127.0.0.1:${uasPort}` });
    await until(() => last(bob.events, placed.id)?.state === 'established', 10_000);
    expect(await uas.exitCode(20_000), sippOutput(uas)).toBe(0); // it got a BYE and answered it
    const ended = await until(() => (last(bob.events, placed.id)?.state === 'terminated' ? last(bob.events, placed.id) : undefined));
    expect(ended).toMatchObject({ endedBy: 'network', endCause: { kind: 'session-expired' } });
    expect(await bob.phone.callDetail(placed.id)).toMatchObject({ result: 'answered', endedBy: 'network', endCause: { kind: 'session-expired' } });
    // 6 - min(32, 6/3) = 4 s after the answer, not before
    expect(ended!.endedAt! - ended!.answeredAt!).toBeGreaterThanOrEqual(3800);
    expect(ended!.endedAt! - ended!.answeredAt!).toBeLessThan(6000);
  });
});
