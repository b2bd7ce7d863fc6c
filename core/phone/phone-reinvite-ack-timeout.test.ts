import { afterEach, describe, expect, it } from 'vitest';
import { Core } from 'sip.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { parseSipMessage, type SipMessage, type SipRequest, type SipResponse } from '../sip/message/index.js';
import type { SipDatagramSocket } from '../sip/transport/sip-sockets.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

/**
 * RFC 3261 §13.3.1.4: a 2xx to a re-INVITE that is retransmitted for 64·T1 (Timer L) without an ACK ends the session
 * with a BYE. sip.js 0.21 kept such a re-INVITE open forever (every later re-INVITE got 500); the npm install step
 * tools/postinstall/sipjs-reinvite-ack-timeout.js mends it. The peer here is a bare UDP socket (in memory): it registers the
 * phone, places or answers a call, then sends a re-INVITE and never acknowledges its 200.
 */
const sdp = (hold: boolean): string =>
  `v=0\r\no=- 1 ${hold ? 2 : 1} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=${hold ? 'sendonly' : 'sendrecv'}\r\n`;

class BarePeer {
  readonly received: SipMessage[] = [];
  phonePort = 0;

  constructor(readonly socket: SipDatagramSocket) {
    socket.onMessage = (data) => {
      const message = parseSipMessage(data);
      this.received.push(message);
      if (message.kind === 'request' && message.method !== 'ACK') this.onRequest(message);
    };
  }

  get port(): number {
    return this.socket.local.port;
  }

  send(text: string): void {
    void this.socket.send(text, { address: '127.0.0.1', port: this.phonePort });
  }

  private onRequest(request: SipRequest): void {
    if (request.method === 'REGISTER') this.phonePort = request.topVia!.port!;
    const answerInvite = request.method === 'INVITE' && !/tag=/.test(request.get('to') ?? '');
    const body = answerInvite ? sdp(false) : '';
    const lines = [
      'SIP/2.0 200 OK',
      ...request.getAll('via').map((v) => `Via: ${v}`),
      `From: ${request.get('from')}`,
      `To: ${request.get('to')}${/tag=/.test(request.get('to') ?? '') ? '' : ';tag=peer'}`,
      `Call-ID: ${request.callId}`,
      `CSeq: ${request.get('cseq')}`,
      request.method === 'REGISTER' ? `Contact: ${request.get('contact')};expires=60` : `Contact: <sip:peer@127.0.0.1:${this.port}>`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${body.length}`,
      '',
      body,
    ];
    this.send(lines.join('\r\n'));
  }

  /** A re-INVITE putting the call on hold, in the dialog of `invite` (the phone's or the peer's first INVITE). */
  reinvite(dialog: { callId: string; local: string; remote: string; target: string; cseq: number }): void {
    const body = sdp(true);
    this.send(
      [
        `INVITE ${dialog.target} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK-reinvite-${dialog.cseq}`,
        'Max-Forwards: 70',
        `From: ${dialog.local}`,
        `To: ${dialog.remote}`,
        `Call-ID: ${dialog.callId}`,
        `CSeq: ${dialog.cseq} INVITE`,
        `Contact: <sip:peer@127.0.0.1:${this.port}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${body.length}`,
        '',
        body,
      ].join('\r\n'),
    );
  }

  responses(method: string, status: number): SipResponse[] {
    return this.received.filter((m): m is SipResponse => m.kind === 'response' && m.status === status && m.cseq.method === method);
  }

  requests(method: string): SipRequest[] {
    return this.received.filter((m): m is SipRequest => m.kind === 'request' && m.method === method);
  }
}

describe('a re-INVITE whose 200 is never acknowledged (RFC 3261 §13.3.1.4)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  const network = new MemoryNetwork();
  const timerL = Core.Timers.TIMER_L;
  afterEach(async () => {
    Core.Timers.TIMER_L = timerL;
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function phoneWithPeer(answer: 'auto' | 'manual'): Promise<{ phone: Phone; peer: BarePeer; events: PhoneEvent[] }> {
    Core.Timers.TIMER_L = 1500; // 64·T1 would be 32 s
    const peer = new BarePeer(await network.bindUdp({ address: '127.0.0.1', port: 0 }));
    cleanup.push(() => peer.socket.close());
    const events: PhoneEvent[] = [];
    const phone = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: `sip:127.0.0.1:${peer.port}`, transport: 'udp', answer: { kind: answer } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers: { t1: 100, t2: 400 },
      sockets: network,
    });
    phone.subscribe((e) => events.push(e));
    cleanup.push(() => phone.shutdown());
    await phone.register();
    return { phone, peer, events };
  }

  const lastCall = (events: PhoneEvent[]): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call').at(-1)?.call;

  it('the callee ends the call with a BYE', async () => {
    const { peer, events } = await phoneWithPeer('auto');
    const invite = [
      `INVITE sip:bob@127.0.0.1:${peer.phonePort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-first`,
      'Max-Forwards: 70',
      'From: <sip:carol@127.0.0.1>;tag=c1',
      'To: <sip:bob@127.0.0.1>',
      'Call-ID: reinvite-no-ack-callee',
      'CSeq: 1 INVITE',
      `Contact: <sip:carol@127.0.0.1:${peer.port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${sdp(false).length}`,
      '',
      sdp(false),
    ].join('\r\n');
    peer.send(invite);
    const ok = await until(() => peer.responses('INVITE', 200)[0]);
    const to = ok.get('to')!;
    const target = /<([^>]+)>/.exec(ok.get('contact')!)![1]!;
    peer.send([`ACK ${target} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-ack1`, 'Max-Forwards: 70', 'From: <sip:carol@127.0.0.1>;tag=c1', `To: ${to}`, 'Call-ID: reinvite-no-ack-callee', 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'));
    await until(() => lastCall(events)?.state === 'established' || undefined);

    peer.reinvite({ callId: 'reinvite-no-ack-callee', local: '<sip:carol@127.0.0.1>;tag=c1', remote: to, target, cseq: 2 });
    await until(() => peer.responses('INVITE', 200).find((r) => r.cseq.seq === 2));
    const bye = await until(() => peer.requests('BYE')[0], 8000);
    expect(bye.callId).toBe('reinvite-no-ack-callee');
    await until(() => lastCall(events)?.state === 'terminated' || undefined);
  });

  it('the caller ends the call with a BYE', async () => {
    const { phone, peer, events } = await phoneWithPeer('manual');
    await phone.call({ target: 'carol' });
    const invite = await until(() => peer.requests('INVITE')[0]);
    await until(() => peer.requests('ACK')[0]);
    await until(() => lastCall(events)?.state === 'established' || undefined);

    // In the peer's dialog From is its own To (with its tag), To the phone's From, the target the phone's Contact.
    const target = /<([^>]+)>/.exec(invite.get('contact')!)![1]!;
    peer.reinvite({ callId: invite.callId, local: `${invite.get('to')};tag=peer`, remote: invite.get('from')!, target, cseq: 1 });
    await until(() => peer.responses('INVITE', 200)[0]);
    const bye = await until(() => peer.requests('BYE')[0], 8000);
    expect(bye.callId).toBe(invite.callId);
    await until(() => lastCall(events)?.state === 'terminated' || undefined);
  });
});
