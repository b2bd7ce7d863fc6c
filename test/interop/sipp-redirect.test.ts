import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { Lab } from '../../lab/lab.js';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { startSipp, type SippOptions } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['sipp']);

/** The From of every INVITE a SIPp received, as its own message trace (`-trace_msg -message_file FILE`) has them. */
function invitesFrom(messageFile: string): string[] {
  return [...fs.readFileSync(messageFile, 'utf8').matchAll(/^INVITE [^\n]*\n(?:[^\n]+\n)*?From: *([^\r\n]+)/gm)].map((m) => m[1]!);
}

/**
 * Issue 19 item 8: a 302 no longer ends the call. SIPp registered at the lab as `sipp` answers the phone's INVITE with
 * 302 naming a second SIPp; the phone follows the Contact (RFC 3261 §8.1.3.4), that one answers, and the call shows
 * the redirection, in its snapshot and in the call log.
 */
describe.skipIf(skip)('a call redirected by SIPp', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const sipp = (options: SippOptions): Child => {
    const child = startSipp(options);
    cleanup.push(() => child.stop());
    return child;
  };

  // the network's words: a right-to-left override and a zero-width space in the reason phrase (RFC 3261 §25.1's
  // UTF8-NONASCII; a control character there would make the response malformed)
  const rawReason = 'Moved\u202E Tempo\u200Brarily';

  it('follows the 302 to the Contact it names, which answers; snapshot and call log show the redirection, its reason phrase as shown', async () => {
    const lab = await Lab.start();
    cleanup.push(() => lab.stop());
    const labAddress = lab.servers.udp!.replace(/^sip:|;.*$/g, '');
    const [redirectorPort, answererPort] = [await freePort(), await freePort()];
    const traces = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-sipp-redirect-'));
    cleanup.push(() => fs.rmSync(traces, { recursive: true, force: true }));
    const traced = (name: string): string[] => ['-trace_msg', '-message_file', path.join(traces, name)];
    const answerer = sipp({ scenario: 'uas.xml', localPort: answererPort, mediaPort: await freePort(), extra: ['-rtp_echo', ...traced('answerer.log')] });
    const redirector = sipp({ scenario: 'uas-redirect.xml', localPort: redirectorPort, keys: { target_port: String(answererPort), reason: rawReason }, extra: traced('redirector.log') });
    const register = sipp({ scenario: 'register.xml', remote: labAddress, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(redirectorPort), expires: '120' } });
    expect(await register.exitCode(20_000), register.stderr).toBe(0);

    const alice = new Phone({ accounts: [{ id: 'alice', user: 'alice', server: lab.servers.udp!, transport: 'udp', domain: lab.domain }], createSessionDescriptionHandlerFactory: defaultMediaProvider });
    cleanup.push(() => alice.shutdown());
    const events: PhoneEvent[] = [];
    alice.subscribe((e) => events.push(e));
    await alice.register();
    const placed = await alice.call({ target: 'sipp' });
    const target = `sip:sipp@127.0.0.1:${answererPort};transport=UDP`; // as SIPp writes it
    const up = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.id === placed.id && e.call.state === 'established' ? [e.call] : []))[0], 15_000);
    expect(up.redirects).toEqual([{ status: 302, reason: 'Moved Temporarily', target }]); // privacy/shown-name.ts
    await alice.hangup(placed.id);
    expect(await redirector.exitCode(20_000), `redirector: ${redirector.stderr}`).toBe(0);
    expect(await answerer.exitCode(20_000), `answerer: ${answerer.stderr}`).toBe(0);
    // the INVITE sent on has the first one's From, its tag too (RFC 3261 §8.1.3.5), as each SIPp received them
    const [first, again] = [invitesFrom(path.join(traces, 'redirector.log')), invitesFrom(path.join(traces, 'answerer.log'))];
    expect([first.length, again.length]).toEqual([1, 1]);
    expect(again[0]).toMatch(/;tag=[^;>]+/);
    expect(again[0]).toBe(first[0]);

    await until(() => events.some((e) => e.type === 'call' && e.call.id === placed.id && e.call.state === 'terminated'));
    const logged = (await alice.history()).calls.find((c) => c.id === placed.id)!;
    expect(logged).toMatchObject({ result: 'answered', status: 200, redirects: [{ status: 302, reason: 'Moved Temporarily', target }] });
    // One call, one trace: the 302 from the redirect server as it came and both INVITEs, under the one Call-ID.
    const detail = (await alice.callDetail(placed.id))!;
    const lines = detail.messages.map((m) => `${m.dir} ${m.raw.split('\r\n')[0]!.toLowerCase()}`);
    expect(lines).toEqual(expect.arrayContaining([`in sip/2.0 302 ${rawReason.toLowerCase()}`, `out invite ${target.toLowerCase()} sip/2.0`]));
  });
});
