import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { Phone } from './phone.js';

/**
 * A final answer whose reason phrase strays outside RFC 3261 §25.1 (`[ ] < > "`: servers write hosts and hints there)
 * ends the call as its status says. helper 74: the lab's own `404 Not Found (no route to [2001:db8::1])` was dropped
 * by sip.js's grammar, and the call stayed "calling" for 40 s, then was logged as cancelled.
 */
describe('answers with a reason phrase outside the grammar', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A server on a bare socket answering every INVITE with 100, then `final` (a status line and more header lines). */
  async function answeringServer(final: { line: string; tag: boolean; headers?: string[] }): Promise<string> {
    const server = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    server.on('message', (data, from) => {
      const text = data.toString();
      if (!text.startsWith('INVITE ')) return;
      const lines = text.split('\r\n');
      const copied = ['via', 'from', 'to', 'call-id', 'cseq'].flatMap((name) => lines.filter((l) => l.toLowerCase().startsWith(`${name}:`)));
      const answer = (line: string, tag: boolean, more: string[] = []): string => [line, ...copied.map((l) => (tag && l.toLowerCase().startsWith('to:') ? `${l};tag=srv` : l)), ...more, 'Content-Length: 0', '', ''].join('\r\n');
      server.send(answer('SIP/2.0 100 Trying', false), from.port, from.address);
      server.send(answer(final.line, final.tag, final.headers), from.port, from.address);
    });
    return `sip:127.0.0.1:${server.address().port}`;
  }

  // helper 74: a relay deleted the Contact of the 200: the phone showed "Ringing…" for good, Hang up did nothing, and
  // no other call could be placed until a restart (sip.js dropped the 2xx, and its INVITE transaction was over)
  it.each([
    ['no Contact', { line: 'SIP/2.0 200 OK', tag: true }, 'Contact'],
    ['no To tag', { line: 'SIP/2.0 200 OK', tag: false, headers: ['Contact: <sip:bob@127.0.0.1:5999>'] }, 'To tag'],
  ])('a 200 with %s ends the call as an unusable answer (502), and the next call can be placed', async (_, final, lacking) => {
    const phone = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server: await answeringServer(final), transport: 'udp', domain: '127.0.0.1' }],
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers: { t1: 50, t2: 400 },
    });
    cleanup.push(() => phone.shutdown());
    const events: PhoneEvent[] = [];
    phone.subscribe((e) => events.push(e));
    const ended = (n: number) => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.state === 'terminated')[n];
    await phone.call({ target: 'bob' }).catch(() => undefined);
    const first = await until(() => ended(0), 3000);
    expect(first.call).toMatchObject({ status: 502, reason: `Bad Gateway (the 200 answer has no ${lacking}, RFC 3261 §12.1.1)` });
    await phone.call({ target: 'bob' }).catch(() => undefined);
    await until(() => ended(1), 3000);
  });

  it.each([
    [404, 'Not Found (no route to [2001:db8::1])'],
    [486, 'Busy <on another call>'],
    [603, 'Decline "not now"'],
  ])('a %i "%s" fails the call at once with that status', async (status, phrase) => {
    const server = await answeringServer({ line: `SIP/2.0 ${status} ${phrase}`, tag: true });
    const phone = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server, transport: 'udp', domain: '127.0.0.1' }],
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers: { t1: 50, t2: 400 },
    });
    cleanup.push(() => phone.shutdown());
    const events: PhoneEvent[] = [];
    phone.subscribe((e) => events.push(e));
    const started = Date.now();
    await phone.call({ target: 'bob' }).catch(() => undefined);
    const ended = await until(() => events.find((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.state === 'terminated'), 3000);
    expect(ended.call).toMatchObject({ status, reason: phrase });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
