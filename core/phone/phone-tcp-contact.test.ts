import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { AccountConfig, PhoneEvent } from '../api/phone-types.js';
import { parseSipMessage, type SipResponse } from '../sip/message/index.js';
import { StreamFramer } from '../sip/transport/stream-framer.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };

/**
 * Issue 19 item 9: a TCP phone listens on its Contact's address and port (RFC 3261 §18.2.1). A peer that connects to
 * the Contact is accepted and answered over its own connection (§18.2.2), subject to the same rule as over UDP: only
 * the account's servers may send requests outside a dialog unless directCalls is on (issue 17 item 5).
 */
describe('a TCP phone\'s Contact', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setUp(bobAccount: Partial<AccountConfig>): Promise<{ lab: Lab; alice: Phone; bob: Phone; bobEvents: PhoneEvent[]; contact: { host: string; port: number } }> {
    const lab = await Lab.start({ timers });
    cleanup.push(() => lab.stop());
    const phone = (account: AccountConfig): Phone => {
      const p = new Phone({ accounts: [account], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers });
      cleanup.push(() => p.shutdown());
      return p;
    };
    const alice = phone({ id: 'alice', user: 'alice', server: lab.servers.tcp!, transport: 'tcp', domain: lab.domain });
    const bob = phone({ id: 'bob', user: 'bob', server: lab.servers.tcp!, transport: 'tcp', domain: lab.domain, answer: { kind: 'auto' }, ...bobAccount });
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    await alice.register();
    const registered = (await bob.register()).contact!;
    const [, host, port] = /@([^:;>]+):(\d+)/.exec(registered)!;
    return { lab, alice, bob, bobEvents, contact: { host: host!, port: Number(port) } };
  }

  /**
   * A peer that connects to the Contact over TCP and reads SIP responses from its connection. It connects from
   * 127.0.0.2: a connection to the Contact is trusted by its source address (a server connects from a port of its
   * choosing), and the lab is on 127.0.0.1.
   */
  async function peer(contact: { host: string; port: number }, localAddress = '127.0.0.2'): Promise<{ send(raw: string): void; answers: SipResponse[]; port: number; closed: () => boolean }> {
    const socket = net.connect({ port: contact.port, host: contact.host, localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined); // a reset at teardown
    cleanup.push(() => void socket.destroy());
    const answers: SipResponse[] = [];
    const framer = new StreamFramer((data) => {
      const m = parseSipMessage(data);
      if (m.kind === 'response') answers.push(m);
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    return { send: (raw) => void socket.write(raw), answers, port: socket.localPort!, closed: () => closed };
  }

  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  const request = (method: string, id: string, port: number, extra: { toTag?: string; cseq?: number; body?: string } = {}): string =>
    [
      `${method} sip:bob@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/TCP 127.0.0.2:${port};branch=z9hG4bK${id}${method}${extra.cseq ?? 1}`,
      'Max-Forwards: 70',
      'From: "Carol" <sip:carol@127.0.0.1>;tag=c1',
      `To: <sip:bob@127.0.0.1>${extra.toTag ? `;tag=${extra.toTag}` : ''}`,
      `Call-ID: ${id}@carol.example`,
      `CSeq: ${extra.cseq ?? 1} ${method}`,
      `Contact: <sip:carol@127.0.0.2:${port};transport=tcp>`,
      ...(extra.body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(extra.body ?? '')}`,
      '',
      extra.body ?? '',
    ].join('\r\n');

  it('with directCalls on, a peer that connects to the Contact calls the phone over its own connection', async () => {
    const { bob, bobEvents, contact } = await setUp({ directCalls: true });
    const carol = await peer(contact);
    carol.send(request('INVITE', 'tcp1', carol.port, { body: sdp }));
    const ok = await until(() => carol.answers.find((a) => a.cseq.method === 'INVITE' && a.status === 200));
    expect(carol.answers.some((a) => a.status === 180)).toBe(true);
    expect(bobEvents.some((e) => e.type === 'incoming' && e.call.remote.shown === 'Carol')).toBe(true);
    const toTag = /;tag=([^;\s]+)/.exec(ok.get('to')!)![1]!;
    carol.send(request('ACK', 'tcp1', carol.port, { toTag }));
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.state === 'established') || undefined);
    carol.send(request('BYE', 'tcp1', carol.port, { toTag, cseq: 2 }));
    await until(() => carol.answers.find((a) => a.cseq.method === 'BYE' && a.status === 200));
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.state === 'terminated') || undefined);
    // the call log names the peer that connected, not the registrar (issue 19 item 12)
    expect((await bob.history()).calls[0]).toMatchObject({ direction: 'incoming', remoteSip: `127.0.0.2:${carol.port}` });
  });

  it('a stranger that connects to the Contact gets 403 over its connection and rings nothing; calls through the lab still come', async () => {
    const { alice, bob, bobEvents, contact } = await setUp({});
    const eve = await peer(contact);
    eve.send(request('INVITE', 'tcp2', eve.port, { body: sdp }));
    const refused = await until(() => eve.answers.find((a) => a.status >= 200));
    expect(refused.status).toBe(403);
    expect(eve.answers.some((a) => a.status < 200)).toBe(false);
    expect(bobEvents.filter((e) => e.type === 'incoming')).toEqual([]);
    expect((await bob.history()).calls).toEqual([]);
    const placed = await alice.call({ target: 'bob' });
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.state === 'established') || undefined);
    await alice.hangup(placed.id);
  });

  it('strangers holding every connection the Contact allows them do not keep the account\'s server out', async () => {
    const { contact } = await setUp({});
    // four stranger addresses, eight connections each (the per-source cap): the 32 strangers may hold
    const strangers = await Promise.all([2, 3, 4, 5].flatMap((host) => Array.from({ length: 8 }, () => peer(contact, `127.0.0.${host}`))));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(strangers.filter((s) => s.closed())).toEqual([]);
    // a fifth is reset at accept (before or after its connect completes)
    expect(String(await peer(contact, '127.0.0.6').then((fifth) => until(() => fifth.closed() || undefined), (error: Error) => error.message))).toMatch(/ECONNRESET|^true$/);
    // the server (the lab is on 127.0.0.1) opens a connection of its own to the Contact and is answered over it
    const server = await peer(contact, '127.0.0.1');
    server.send(request('OPTIONS', 'tcp3', server.port).replace(/127\.0\.0\.2/g, '127.0.0.1'));
    const answer = await until(() => server.answers.find((a) => a.status >= 200));
    expect(answer.status).toBe(200);
  });
});
