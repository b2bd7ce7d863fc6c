import dgram from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import { parseSipMessage, type SipMessage } from './message/index.js';
import type { SipCall } from './sip-call.js';
import { SipIdentity } from './sip-identity.js';

/** A hand-driven UDP peer: it plays the server/far end so a test can send exactly what it wants, in any order. */
class RawPeer {
  readonly received: SipMessage[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (data) => {
      try {
        this.received.push(parseSipMessage(data));
      } catch {
        return;
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(): Promise<RawPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(text: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(text, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  }

  async next(match: (m: SipMessage) => boolean, ms = 3000): Promise<SipMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.find(match);
      if (found) {
        this.received.splice(this.received.indexOf(found), 1);
        return found;
      }
      if (Date.now() > deadline) throw new Error('peer: timed out waiting for a message');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40002 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

function invite(peerPort: number, agentPort: number, callId: string): string {
  return [
    `INVITE sip:bob@127.0.0.1:${agentPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-inv-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=a-${callId}`,
    'To: <sip:bob@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@127.0.0.1:${peerPort}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}

function options(peerPort: number, agentPort: number, callId: string): string {
  return [
    `OPTIONS sip:bob@127.0.0.1:${agentPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-opt-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=o-${callId}`,
    'To: <sip:bob@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function inDialog(method: 'ACK' | 'BYE', cseq: number, peerPort: number, agentPort: number, callId: string, toTag: string): string {
  return [
    `${method} sip:bob@127.0.0.1:${agentPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${method.toLowerCase()}-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=a-${callId}`,
    `To: <sip:bob@127.0.0.1>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('SipIdentity against a hand-driven UDP peer', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(): Promise<{ peer: RawPeer; bob: SipIdentity; calls: SipCall[] }> {
    const peer = await RawPeer.open();
    cleanups.push(() => peer.close());
    const calls: SipCall[] = [];
    const bob = await SipIdentity.create({
      aor: { user: 'bob', domain: '127.0.0.1' },
      transport: 'udp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port: peer.port },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      timers: { t1: 100, t2: 400 },
      onIncomingCall: (call) => {
        calls.push(call);
        void call.answer();
      },
    });
    cleanups.push(() => bob.dispose());
    return { peer, bob, calls };
  }

  it('ends the call at once when the BYE overtakes the ACK (a forking proxy may reorder them), and sends no late BYE', async () => {
    const { peer, bob, calls } = await setUp();
    await peer.send(invite(peer.port, bob.local.port, 'race-1'), bob.local.port);
    const ok = await peer.next((m) => m.kind === 'response' && m.status === 200);
    const toTag = /tag=([^;>\s]+)/.exec(ok.get('to')!)![1]!;
    await peer.send(inDialog('BYE', 2, peer.port, bob.local.port, 'race-1', toTag), bob.local.port);
    const byeOk = await peer.next((m) => m.kind === 'response' && m.cseq.method === 'BYE');
    expect(byeOk.kind === 'response' && byeOk.status).toBe(200);
    await peer.send(inDialog('ACK', 1, peer.port, bob.local.port, 'race-1', toTag), bob.local.port);
    await calls[0]!.whenEnded();
    expect(calls[0]!).toMatchObject({ state: 'terminated', endedBy: 'remote' });
    // Past 64·T1 (sip.js's Timer L, 32 s): no BYE for the ended dialog. The clock runs fake from here, the socket real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      await vi.advanceTimersByTimeAsync(64 * 500 + 1000);
      // A BYE sent meanwhile is in before the answer to a later request (one socket each side, loopback keeps order).
      await peer.send(options(peer.port, bob.local.port, 'after-race-1'), bob.local.port);
      await peer.next((m) => m.kind === 'response' && m.callId === 'after-race-1');
      expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'BYE')).toEqual([]);
      // dispose waits for nothing: it ends while the clock stands still (a wait on a timer would never end).
      await bob.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it('answers a malformed request with 400, drops garbage, counts both, and keeps working', async () => {
    const { peer, bob, calls } = await setUp();
    const wrongCSeq = invite(peer.port, bob.local.port, 'bad-1').replace('CSeq: 1 INVITE', 'CSeq: 1 BYE');
    await peer.send(wrongCSeq, bob.local.port);
    const bad = await peer.next((m) => m.kind === 'response');
    expect(bad.kind === 'response' && bad.status).toBe(400);
    for (const junk of ['', 'hello', '\u0000\u0001\u0002', 'INVITE sip:x SIP/2.0\r\n', 'SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n', 'X'.repeat(70_000)]) {
      await peer.send(junk, bob.local.port).catch(() => undefined); // an oversized datagram may be refused by the OS
    }
    // A host that is no host (RFC 3261 §25.1: an empty label) is refused with 400 by our codec; sip.js's grammar
    // could not read it either, and threw.
    await peer.send(invite(peer.port, bob.local.port, 'bad-2').replace(`sip:bob@127.0.0.1:${bob.local.port} SIP/2.0`, 'sip:bob@127..0.1 SIP/2.0'), bob.local.port);
    const badHost = await peer.next((m) => m.kind === 'response' && m.callId === 'bad-2');
    expect(badHost.kind === 'response' && badHost.status).toBe(400);
    // Whatever sip.js still throws on is counted, and neither crashes the phone nor stops the transport delivering
    // what comes next (the throw used to end its inbox for good).
    const transport = (bob as unknown as { transport: { onMessage?: (message: string) => void } }).transport;
    const deliver = transport.onMessage!;
    transport.onMessage = (message) => {
      if (message.includes('Call-ID: bad-3')) throw new Error('Request-URI undefined.');
      deliver(message);
    };
    await peer.send(invite(peer.port, bob.local.port, 'bad-3'), bob.local.port);
    await until(() => bob.rejects.snapshot().SIPJS_REFUSED === 1);
    expect(bob.rejects.total).toBeGreaterThanOrEqual(6);
    expect(bob.rejects.snapshot()).toMatchObject({ BAD_URI: 1, SIPJS_REFUSED: 1 });
    expect(calls).toHaveLength(0);

    await peer.send(invite(peer.port, bob.local.port, 'good-1'), bob.local.port);
    const ok = await peer.next((m) => m.kind === 'response' && m.status === 200);
    await peer.send(inDialog('ACK', 1, peer.port, bob.local.port, 'good-1', /tag=([^;>\s]+)/.exec(ok.get('to')!)![1]!), bob.local.port);
    expect(calls).toHaveLength(1);
  });

  it('shuts down promptly while its answered call still waits for the ACK, and still answers the BYE that follows', async () => {
    const { peer, bob, calls } = await setUp();
    await peer.send(invite(peer.port, bob.local.port, 'ackwait-1'), bob.local.port);
    const ok = await peer.next((m) => m.kind === 'response' && m.status === 200);
    const toTag = /tag=([^;>\s]+)/.exec(ok.get('to')!)![1]!;
    // On a fake clock that is moved only by the shutdown's grace (8·T1), never to the ACK's 64·T1: were the shutdown
    // waiting for the ACK, it would never end.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const disposed = bob.dispose();
      await peer.send(inDialog('BYE', 2, peer.port, bob.local.port, 'ackwait-1', toTag), bob.local.port);
      const byeAnswer = await peer.next((m) => m.kind === 'response' && m.cseq.method === 'BYE');
      expect(byeAnswer.kind === 'response' && byeAnswer.status).toBe(200);
      await vi.advanceTimersByTimeAsync(8 * 100);
      await disposed;
    } finally {
      vi.useRealTimers();
    }
    expect(calls[0]!.state).toBe('terminated');
  });
});
