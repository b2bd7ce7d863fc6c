import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pcmuSdp } from '../../../test/support/script-peer.js';
import { staticSdhFactory } from '../../../test/support/static-sdh.js';
import { until } from '../../../test/support/until.js';
import { createResponse, parseSipMessage, type SipMessage } from '../message/index.js';
import type { SipCall } from '../sip-call.js';
import { SipIdentity } from '../sip-identity.js';
import { StreamFramer } from './stream-framer.js';

/**
 * How received messages reach sip.js (SipJsTransport.deliver). A datagram goes at once, in its socket's callback;
 * messages that arrive together in one TCP chunk go one per event-loop turn, because sip.js settles an ACK in a
 * promise and answers a re-INVITE taken before that with 500 (RFC 6337 §4.3).
 */
describe('delivery of received messages to sip.js', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
  });

  it('takes an ACK and a re-INVITE that arrive in one TCP chunk in order: the re-INVITE is answered 200, not 500', async () => {
    const received: SipMessage[] = [];
    let connection: net.Socket | undefined;
    const server = net.createServer((socket) => {
      connection = socket;
      socket.on('error', () => undefined);
      const framer = new StreamFramer((data) => {
        const message = parseSipMessage(data);
        received.push(message);
        if (message.kind === 'request' && message.method === 'REGISTER') {
          const ok = createResponse(message, 200, 'OK');
          ok.set('contact', `${message.get('contact')!.replace(/;expires=\d+/, '')};expires=600`);
          socket.write(ok.toString());
        }
      });
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => {
      connection?.destroy();
    });
    const port = (server.address() as net.AddressInfo).port;
    const incoming: SipCall[] = [];
    const bob = await SipIdentity.create({
      aor: { user: 'bob', domain: '127.0.0.1' },
      transport: 'tcp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      onIncomingCall: (call) => incoming.push(call),
    });
    cleanups.push(() => bob.dispose({ serverGone: true }));
    await bob.register();

    const request = (method: string, cseq: number, branch: string, to: string): string =>
      [
        `${method} sip:bob@127.0.0.1:${bob.local.port};transport=tcp SIP/2.0`,
        `Via: SIP/2.0/TCP 127.0.0.1:${port};branch=z9hG4bK-${branch}`,
        'Max-Forwards: 70',
        'From: <sip:carol@127.0.0.1>;tag=carol-1',
        `To: ${to}`,
        'Call-ID: chunk-order-1',
        `CSeq: ${cseq} ${method}`,
        `Contact: <sip:carol@127.0.0.1:${port};transport=tcp>`,
        ...(method === 'INVITE' ? ['Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(pcmuSdp(40000, cseq))}`, '', pcmuSdp(40000, cseq)] : ['Content-Length: 0', '', '']),
      ].join('\r\n');
    connection!.write(request('INVITE', 1, 'invite-1', '<sip:bob@127.0.0.1>'));
    const call = await until(() => incoming[0]);
    await call.answer();
    const ok = await until(() => received.find((m) => m.kind === 'response' && m.status === 200 && m.cseq.method === 'INVITE'));
    const to = ok.get('to')!;

    // the ACK and a re-INVITE (hold, say) back to back in one write: one chunk for the phone's framer
    connection!.write(request('ACK', 1, 'ack-1', to) + request('INVITE', 2, 'reinvite-2', to));
    const answer = await until(() => received.find((m) => m.kind === 'response' && m.cseq.method === 'INVITE' && m.cseq.seq === 2 && m.status >= 200));
    expect(answer.kind === 'response' && answer.status).toBe(200);
  });
});
