import dgram from 'node:dgram';
import net from 'node:net';
import { Core } from 'sip.js';
import { Parser } from 'sip.js/lib/core/messages/parser.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectGarbage } from '../../test/support/collect-garbage.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import { parseSipMessage, viaBranch, type SipMessage } from './message/index.js';
import type { SipCall } from './sip-call.js';
import { SipIdentity, type SipIdentityError } from './sip-identity.js';
import { parseSipJsMessageOrThrow } from './sipjs-message-parser.js';
import { sipStackGuard } from './sip-stack-guard.js';

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

function inDialog(method: 'ACK' | 'BYE' | 'INFO', cseq: number, peerPort: number, agentPort: number, callId: string, toTag: string): string {
  const body = method === 'INFO' ? 'Signal=5\r\nDuration=160\r\n' : '';
  return [
    `${method} sip:bob@127.0.0.1:${agentPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${method.toLowerCase()}-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=a-${callId}`,
    `To: <sip:bob@127.0.0.1>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    ...(body ? ['Content-Type: application/dtmf-relay'] : []),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
}

/** The reply a peer sends to a request of the identity (the BYE it ends a call with). */
/** The peer sends `callId`'s INVITE and waits for the agent's 200: its To tag, which the peer's ACK and BYE then name. */
async function answeredInvite(peer: RawPeer, agentPort: number, callId: string): Promise<string> {
  await peer.send(invite(peer.port, agentPort, callId), agentPort);
  const ok = await peer.next((m) => m.kind === 'response' && m.status === 200 && m.cseq.method === 'INVITE' && m.callId === callId);
  return /tag=([^;>\s]+)/.exec(ok.get('to')!)![1]!;
}

function okTo(request: SipMessage & { kind: 'request' }): string {
  return ['SIP/2.0 200 OK', ...request.getAll('via').map((v) => `Via: ${v}`), `From: ${request.get('from')}`, `To: ${request.get('to')}`, `Call-ID: ${request.callId}`, `CSeq: ${request.get('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n');
}

/** Make sip.js throw `error` while it takes each message that starts with `start` (a fault injected at the transport's hand-over). */
function throwWhenHanded(identity: SipIdentity, start: string, error: string): void {
  const transport = (identity as unknown as { transport: { onMessage?: (message: string) => void } }).transport;
  const deliver = transport.onMessage!;
  transport.onMessage = (message) => {
    if (message.startsWith(start)) throw new Error(error);
    deliver(message);
  };
}

/** The INVITE server transaction of an incoming call (sip.js keeps it on the Invitation's user agent server). */
function inviteTransaction(call: SipCall): { state: string } {
  return (call.session as unknown as { incomingInviteRequest: { transaction: { state: string } } }).incomingInviteRequest.transaction;
}

describe('SipIdentity against a hand-driven UDP peer', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const timerL = Core.Timers.TIMER_L;
  const timerH = Core.Timers.TIMER_H;
  afterEach(() => {
    Core.Timers.TIMER_L = timerL;
    Core.Timers.TIMER_H = timerH;
  });

  async function setUp(onIncomingCall: (call: SipCall) => void = (call) => void call.answer()): Promise<{ peer: RawPeer; bob: SipIdentity; calls: SipCall[] }> {
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
        onIncomingCall(call);
      },
    });
    cleanups.push(() => bob.dispose());
    return { peer, bob, calls };
  }

  const statusOf = (m: SipMessage): number | undefined => (m.kind === 'response' ? m.status : undefined);

  it('answers a merged request (the same From tag, Call-ID and CSeq on a new branch) with 482, and the request it merged with as usual (RFC 3261 §8.2.2.2)', async () => {
    const { peer, bob, calls } = await setUp(() => undefined); // rings for no one: the first INVITE's transaction stays
    const first = invite(peer.port, bob.local.port, 'merged-1');
    await peer.send(first, bob.local.port);
    await until(() => calls.length === 1);
    await peer.send(first.replace('branch=z9hG4bK-inv-merged-1', 'branch=z9hG4bK-inv-merged-1-forked'), bob.local.port);
    const loop = await peer.next((m) => statusOf(m) === 482);
    expect(loop.topVia && viaBranch(loop.topVia)).toBe('z9hG4bK-inv-merged-1-forked');
    await peer.send(first.replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE').replace('branch=z9hG4bK-inv-merged-1', 'branch=z9hG4bK-inv-merged-1-next'), bob.local.port);
    await until(() => calls.length === 2); // another CSeq is a new request, not a merged one
    await calls[0]!.reject(486);
    const busy = await peer.next((m) => statusOf(m) === 486);
    expect(busy.topVia && viaBranch(busy.topVia)).toBe('z9hG4bK-inv-merged-1');
  });

  it('sends no 100 Trying for an INVITE it rings for at once, and one 100 ms later for an INVITE it has not answered (RFC 3261 §17.2.1; issue 23)', async () => {
    const ringing = await setUp((call) => void call.ring());
    await ringing.peer.send(invite(ringing.peer.port, ringing.bob.local.port, 'trying-1'), ringing.bob.local.port);
    await ringing.peer.next((m) => statusOf(m) === 180);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(ringing.peer.received.map(statusOf), 'nothing after the 180').toEqual([]);

    const silent = await setUp(() => undefined);
    const sentAt = Date.now();
    await silent.peer.send(invite(silent.peer.port, silent.bob.local.port, 'trying-2'), silent.bob.local.port);
    await silent.peer.next((m) => statusOf(m) === 100);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(90);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(silent.peer.received.map(statusOf), 'one 100 only').toEqual([]);
  });

  it('has sip.js parse with the plain readers once an identity exists (issue 23: sipjs-message-parser.ts)', async () => {
    await setUp();
    expect(Parser.parseMessage).toBe(parseSipJsMessageOrThrow);
  });

  it('ends the call at once when the BYE overtakes the ACK (a forking proxy may reorder them), and sends no late BYE', async () => {
    const { peer, bob, calls } = await setUp();
    const toTag = await answeredInvite(peer, bob.local.port, 'race-1');
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

  it('ends a call whose 200 is never acknowledged with a BYE at the ACK timeout (RFC 3261 §13.3.1.4): the dialog still watches for it while the call lasts', async () => {
    Core.Timers.TIMER_L = 300; // 64·T1 would be 32 s
    const { peer, bob, calls } = await setUp();
    const toTag = await answeredInvite(peer, bob.local.port, 'never-acked');
    const bye = await peer.next((m) => m.kind === 'request' && m.method === 'BYE', 5000); // no ACK is ever sent
    expect(bye.get('from')).toContain(`tag=${toTag}`);
    await peer.send(okTo(bye as SipMessage & { kind: 'request' }), bob.local.port);
    await calls[0]!.whenEnded();
  });

  it('sends nothing and throws nothing at the ACK timeout (Timer L) of a call the peer ended with BYE before any ACK (issue 19 item 1)', async () => {
    // SIPp's built-in uac through a proxy that lost its ACK did this; 32 s later sip.js threw "Invalid state transition
    // from Terminated to Terminated" out of Timer L, uncaught, after sending a BYE for the ended dialog.
    Core.Timers.TIMER_L = 300; // 64·T1 would be 32 s
    const faults = sipStackGuard.snapshot().total;
    const { peer, bob, calls } = await setUp();
    const toTag = await answeredInvite(peer, bob.local.port, 'noack-1');
    await peer.send(inDialog('BYE', 2, peer.port, bob.local.port, 'noack-1', toTag), bob.local.port);
    const byeOk = await peer.next((m) => m.kind === 'response' && m.cseq.method === 'BYE');
    expect(byeOk.kind === 'response' && byeOk.status).toBe(200);
    await calls[0]!.whenEnded();
    expect(calls[0]!).toMatchObject({ state: 'terminated', endedBy: 'remote' });
    await until(() => inviteTransaction(calls[0]!).state === 'Terminated'); // Timer L has fired
    // Whatever bob sent at Timer L is on the wire before its answer to a later request.
    await peer.send(invite(peer.port, bob.local.port, 'noack-2').replace(/INVITE/g, 'OPTIONS').replace(/Content-Type[^]*$/, 'Content-Length: 0\r\n\r\n'), bob.local.port);
    await peer.next((m) => m.kind === 'response' && m.callId === 'noack-2');
    expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'BYE')).toEqual([]);
    expect(sipStackGuard.snapshot().total).toBe(faults);
    expect(bob.rejects.snapshot().SIPJS_FAULT).toBeUndefined();
  });

  it('changes nothing for a CANCEL that crosses its 200: answered with the To tag of the 200, the call stays up (issue 19 item 3)', async () => {
    Core.Timers.TIMER_L = 300; // the ACK wait of the 200 (64·T1 would be 32 s)
    const { peer, bob, calls } = await setUp();
    const toTag = await answeredInvite(peer, bob.local.port, 'late-cancel');
    // RFC 3261 §9.1: a CANCEL names the INVITE's branch and its To without a tag.
    const cancel = invite(peer.port, bob.local.port, 'late-cancel').replace(/INVITE/g, 'CANCEL').replace(/Content-Type[^]*$/, 'Content-Length: 0\r\n\r\n');
    await peer.send(cancel, bob.local.port);
    const cancelled = await peer.next((m) => m.kind === 'response' && m.cseq.method === 'CANCEL');
    expect(cancelled.kind === 'response' && cancelled.status).toBe(200);
    // §9.2: the same To tag as the 200; a caller that acknowledges with the tag of the latest response (SIPp's
    // [last_To:]) then reaches the dialog.
    const cancelTag = /tag=([^;>\s]+)/.exec(cancelled.get('to')!)![1]!;
    expect(cancelTag).toBe(toTag);
    await peer.send(inDialog('ACK', 1, peer.port, bob.local.port, 'late-cancel', cancelTag), bob.local.port);
    await until(() => inviteTransaction(calls[0]!).state === 'Terminated'); // past the ACK wait (Timer L)
    await peer.send(invite(peer.port, bob.local.port, 'late-cancel-2').replace(/INVITE/g, 'OPTIONS').replace(/Content-Type[^]*$/, 'Content-Length: 0\r\n\r\n'), bob.local.port);
    await peer.next((m) => m.kind === 'response' && m.callId === 'late-cancel-2');
    expect(calls[0]!.state).toBe('established');
    expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'BYE')).toEqual([]);
    expect(peer.received.filter((m) => m.kind === 'response' && m.cseq.method === 'INVITE' && m.status >= 300)).toEqual([]);
  });

  it('lets go of an ended call while its INVITE transaction lingers, and still ACKs a retransmitted 2xx, and ACKs then BYEs a late one from another fork (RFC 3261 §13.2.2.4)', async () => {
    const { peer, bob } = await setUp();
    const okFrom = (request: SipMessage, tag: string): string => {
      const req = request as SipMessage & { kind: 'request' };
      const lines = okTo(req).split('\r\n');
      lines[lines.findIndex((l) => l.startsWith('To:'))] = `To: ${req.get('to')};tag=${tag}`;
      lines.splice(1, 0, `Contact: <sip:carol@127.0.0.1:${peer.port}>`);
      return lines.join('\r\n').replace('Content-Length: 0\r\n\r\n', `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`);
    };
    let call: SipCall | undefined = bob.createCall(`sip:carol@127.0.0.1:${peer.port}`);
    const ended = new WeakRef(call);
    const placed = call.invite();
    const invite = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE');
    await peer.send(okFrom(invite, 'fork-a'), bob.local.port);
    expect(await placed).toBe(200);
    await peer.next((m) => m.kind === 'request' && m.method === 'ACK');
    const dialog = new WeakRef((call.session as unknown as { dialog: object }).dialog);
    await call.hangup();
    const bye = await peer.next((m) => m.kind === 'request' && m.method === 'BYE');
    await peer.send(okTo(bye as SipMessage & { kind: 'request' }), bob.local.port);
    await call.whenEnded();
    call = undefined;
    // The INVITE transaction lingers 64·T1 in "Accepted" (RFC 6026 §7.1); the ended call does not linger with it.
    const core = (bob as unknown as { userAgent: { userAgentCore: { userAgentClients: Map<string, unknown> } } }).userAgent.userAgentCore;
    const lingering = (): number => [...core.userAgentClients.values()].filter((c) => (c as object).constructor.name === 'InviteUserAgentClient').length;
    expect(lingering()).toBe(1);
    await until(() => {
      collectGarbage();
      return ended.deref() === undefined && dialog.deref() === undefined; // the closed dialog too: only its id is kept
    }, 5000);
    expect(lingering()).toBe(1);
    // A retransmission of the 2xx: the same ACK again.
    await peer.send(okFrom(invite, 'fork-a'), bob.local.port);
    const again = await peer.next((m) => m.kind === 'request' && m.method === 'ACK');
    expect(again.get('to')).toContain('tag=fork-a');
    // Another fork answers late: its dialog is acknowledged, then ended.
    await peer.send(okFrom(invite, 'fork-b'), bob.local.port);
    const ackB = await peer.next((m) => m.kind === 'request' && m.method === 'ACK');
    expect(ackB.get('to')).toContain('tag=fork-b');
    const byeB = await peer.next((m) => m.kind === 'request' && m.method === 'BYE');
    expect(byeB.get('to')).toContain('tag=fork-b');
    await peer.send(okTo(byeB as SipMessage & { kind: 'request' }), bob.local.port);
  });

  it("lets go of an answered call's dialog and last responses once the call ends, while its INVITE server transaction lingers and still absorbs the INVITE's retransmissions (RFC 6026 §7.1)", async () => {
    const { peer, bob, calls } = await setUp();
    const toTag = await answeredInvite(peer, bob.local.port, 'linger-uas');
    await peer.send(inDialog('ACK', 1, peer.port, bob.local.port, 'linger-uas', toTag), bob.local.port);
    await until(() => calls[0]?.state === 'established');
    const server = (calls[0]!.session as unknown as { incomingInviteRequest: { confirmedDialog?: object; transaction: { state: string; lastFinalResponse?: unknown; lastProvisionalResponse?: unknown } } }).incomingInviteRequest;
    const dialog = new WeakRef(server.confirmedDialog!);
    await peer.send(inDialog('BYE', 2, peer.port, bob.local.port, 'linger-uas', toTag), bob.local.port);
    await peer.next((m) => m.kind === 'response' && m.cseq.method === 'BYE');
    await calls.pop()!.whenEnded(); // the session holds its dialog: nothing here may hold the session
    await until(() => {
      collectGarbage();
      return dialog.deref() === undefined; // before, the transaction's ACK-timeout listener held it for 64·T1
    }, 5000);
    expect(server.transaction.state).toBe('Accepted');
    expect(server.transaction.lastFinalResponse).toBeUndefined();
    expect(server.transaction.lastProvisionalResponse).toBeUndefined();
    // A retransmission of the INVITE is absorbed: no answer, no new call.
    const answers = (): number => peer.received.filter((m) => m.callId === 'linger-uas').length;
    const heard = answers();
    await peer.send(invite(peer.port, bob.local.port, 'linger-uas'), bob.local.port);
    // whatever bob sent for it is on the wire before its answer to a later request (one socket each side, loopback)
    await peer.send(options(peer.port, bob.local.port, 'after-linger-uas'), bob.local.port);
    await peer.next((m) => m.kind === 'response' && m.callId === 'after-linger-uas');
    expect(answers()).toBe(heard);
    expect(calls).toEqual([]);
  });

  it('leaves no dialog behind a call that rang and was refused, once its INVITE transaction ends', async () => {
    Core.Timers.TIMER_H = 300; // the wait for the ACK of the 486 (64·T1 would be 32 s)
    const { peer, bob, calls } = await setUp((call) => void call.ring().then(() => call.reject(486)));
    const core = (bob as unknown as { userAgent: { userAgentCore: { dialogs: Map<string, unknown> } } }).userAgent.userAgentCore;
    await peer.send(invite(peer.port, bob.local.port, 'refused'), bob.local.port);
    await peer.next((m) => m.kind === 'response' && m.status === 180);
    await peer.next((m) => m.kind === 'response' && m.status === 486);
    expect(core.dialogs.size).toBe(1); // the early dialog of the 180
    await until(() => inviteTransaction(calls[0]!).state === 'Terminated');
    // the user-agent server disposes its early dialog as its transaction ends; a dialog left would match requests forever
    expect(core.dialogs.size).toBe(0);
  });

  it('fails a REGISTER answered with a redirection (3xx) instead of waiting for ever', async () => {
    const { peer, bob } = await setUp();
    const registering = bob.register().then(
      (status) => `registered ${status}`,
      (error: SipIdentityError) => `${error.code} ${error.status}`,
    );
    const register = await peer.next((m) => m.kind === 'request' && m.method === 'REGISTER');
    const moved = okTo(register as SipMessage & { kind: 'request' }).replace('SIP/2.0 200 OK', 'SIP/2.0 302 Moved Temporarily').replace('Content-Length: 0', `Contact: <sip:registrar@127.0.0.1:${peer.port}>\r\nContent-Length: 0`);
    await peer.send(moved, bob.local.port);
    expect(await registering).toBe('REGISTER_FAILED 302');
    expect(bob.registrationState).toBe('failed');
  });

  it('sends no more REGISTER refreshes once told the server failed (seed 003 failover), and still takes a call', async () => {
    const { peer, bob, calls } = await setUp();
    const registering = bob.register();
    const register = (await peer.next((m) => m.kind === 'request' && m.method === 'REGISTER')) as SipMessage & { kind: 'request' };
    // a binding of 2 s: sip.js would refresh it after 1.98 s (99 % of it)
    await peer.send(okTo(register).replace('Content-Length: 0', `Contact: ${register.get('contact')};expires=2\r\nContent-Length: 0`), bob.local.port);
    await registering;
    bob.stopRefreshing();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'REGISTER')).toEqual([]); // the first was taken above
    expect(bob.registrationState).toBe('registered'); // nothing said the binding went: it expires at the registrar
    await answeredInvite(peer, bob.local.port, 'after-failover');
    expect(calls.map((c) => c.callId)).toEqual(['after-failover']);
  });

  it('names its outbound proxy in a Route on every request without one, in a dialog or not (RFC 3261 §8.1.2; issue 19 item 6)', async () => {
    const { peer, bob } = await setUp();
    const proxy = `<sip:127.0.0.1:${peer.port};lr>`;
    const answer = async (request: SipMessage, recordRoute?: string): Promise<void> => {
      const req = request as SipMessage & { kind: 'request' };
      const lines = okTo(req).split('\r\n');
      lines[lines.findIndex((l) => l.startsWith('To:'))] = `To: ${req.get('to')};tag=far-${req.callId}`;
      lines.splice(1, 0, ...(recordRoute ? [`Record-Route: ${recordRoute}`] : []), `Contact: <sip:carol@127.0.0.1:${peer.port}>`);
      const body = sdp;
      await peer.send(lines.join('\r\n').replace('Content-Length: 0\r\n\r\n', `Content-Type: application/sdp\r\nContent-Length: ${body.length}\r\n\r\n${body}`), bob.local.port);
    };
    // A dialog the proxy did not record-route (it came from a peer that does not, or straight from the peer).
    const direct = bob.createCall(`sip:carol@127.0.0.1:${peer.port}`);
    const placed = direct.invite();
    const invite = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE');
    expect(invite.getAll('route')).toEqual([proxy]);
    await answer(invite);
    expect(await placed).toBe(200);
    const ack = await peer.next((m) => m.kind === 'request' && m.method === 'ACK' && m.callId === invite.callId);
    expect(ack.getAll('route')).toEqual([proxy]);
    await direct.hangup();
    const bye = await peer.next((m) => m.kind === 'request' && m.method === 'BYE' && m.callId === invite.callId);
    expect(bye.getAll('route')).toEqual([proxy]);
    await peer.send(okTo(bye as SipMessage & { kind: 'request' }), bob.local.port);
    // A dialog the proxy record-routed keeps its route set and nothing more (RFC 3261 §12.2.1.1).
    const routed = bob.createCall(`sip:carol@127.0.0.1:${peer.port}`);
    const placed2 = routed.invite();
    const invite2 = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.callId !== invite.callId);
    const recordRoute = `<sip:127.0.0.1:${peer.port};lr;rr=far>`;
    await answer(invite2, recordRoute);
    expect(await placed2).toBe(200);
    const ack2 = await peer.next((m) => m.kind === 'request' && m.method === 'ACK' && m.callId === invite2.callId);
    expect(ack2.getAll('route')).toEqual([recordRoute]);
    await routed.hangup();
    const bye2 = await peer.next((m) => m.kind === 'request' && m.method === 'BYE' && m.callId === invite2.callId);
    expect(bye2.getAll('route')).toEqual([recordRoute]);
    await peer.send(okTo(bye2 as SipMessage & { kind: 'request' }), bob.local.port);
    // And a request outside any dialog (a keep-alive OPTIONS to the server) names the proxy too.
    const pinged = bob.ping(3000);
    const options = await peer.next((m) => m.kind === 'request' && m.method === 'OPTIONS');
    expect(options.getAll('route')).toEqual([proxy]);
    await peer.send(okTo(options as SipMessage & { kind: 'request' }), bob.local.port);
    expect(await pinged).toBe(200);
  });

  it('holds a call it just answered only once the ACK of its 200 is in (RFC 3261 §14.1, RFC 5407 §3.1.4)', async () => {
    // Before, the re-INVITE went out at once; when the ACK came, sip.js found an offer outstanding and hung up.
    const { peer, bob, calls } = await setUp();
    const toTag = await answeredInvite(peer, bob.local.port, 'early-hold');
    await until(() => calls[0]?.state === 'established');
    const held = calls[0]!.hold(true);
    // Whatever bob sent for the hold is on the wire before its answer to a later request.
    await peer.send(invite(peer.port, bob.local.port, 'early-hold-2').replace(/INVITE/g, 'OPTIONS').replace(/Content-Type[^]*$/, 'Content-Length: 0\r\n\r\n'), bob.local.port);
    await peer.next((m) => m.kind === 'response' && m.callId === 'early-hold-2');
    expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'INVITE')).toEqual([]);
    await peer.send(inDialog('ACK', 1, peer.port, bob.local.port, 'early-hold', toTag), bob.local.port);
    const reinvite = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE');
    const lines = okTo(reinvite as SipMessage & { kind: 'request' }).replace('Content-Length: 0\r\n\r\n', `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp.replace('a=rtpmap', 'a=recvonly\r\na=rtpmap')}`);
    await peer.send(lines.replace('SIP/2.0 200 OK\r\n', `SIP/2.0 200 OK\r\nContact: <sip:alice@127.0.0.1:${peer.port}>\r\n`), bob.local.port);
    expect(await held).toBe(200);
    await peer.next((m) => m.kind === 'request' && m.method === 'ACK');
    expect(calls[0]!).toMatchObject({ state: 'established', localHold: true });
    expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'BYE')).toEqual([]);
  });

  it('follows the Contacts of a 3xx to the next target, each at most once and at most 5 times (RFC 3261 §8.1.3.4; issue 19 item 8)', async () => {
    const { peer, bob } = await setUp();
    /** The peer's final answer to an INVITE of the phone: a 3xx naming `contacts`, a failure, or 200 with SDP. */
    const respond = async (request: SipMessage, status: number, contacts: string[] = [], phrase?: string): Promise<void> => {
      const req = request as SipMessage & { kind: 'request' };
      const reason = phrase ?? { 200: 'OK', 300: 'Multiple Choices', 302: 'Moved Temporarily', 486: 'Busy Here' }[status] ?? 'Failed';
      const body = status === 200 ? sdp : '';
      await peer.send(
        [
          `SIP/2.0 ${status} ${reason}`,
          ...req.getAll('via').map((v) => `Via: ${v}`),
          `From: ${req.get('from')}`,
          `To: ${req.get('to')};tag=t${req.get('cseq')!.split(' ')[0]}`,
          `Call-ID: ${req.callId}`,
          `CSeq: ${req.get('cseq')}`,
          ...contacts.map((c) => `Contact: ${c}`),
          ...(status === 200 ? [`Contact: <sip:answerer@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'] : []),
          `Content-Length: ${body.length}`,
          '',
          body,
        ].join('\r\n'),
        bob.local.port,
      );
    };
    const invites = (callId: string): Array<SipMessage & { kind: 'request' }> => peer.received.filter((m): m is SipMessage & { kind: 'request' } => m.kind === 'request' && m.method === 'INVITE' && m.callId === callId);
    const at = (user: string): string => `sip:${user}@127.0.0.1:${peer.port}`;

    // A 302 to dave: the call goes on to him (same Call-ID, From and To, the next CSeq) and he answers. Its reason
    // phrase holds an ESC, which RFC 3261 §25.1's grammar has no room for: sip.js's parser refused the response, and
    // the call waited for Timer B (sipjs-message-parser.ts statusLineAsItCame).
    const moved = bob.createCall(at('carol'));
    const movedResult = moved.invite();
    const first = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE');
    await respond(first, 302, [`<${at('dave')}>`], 'Moved\x1b[2J Temporarily');
    const second = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.callId === first.callId);
    expect(second.kind === 'request' && second.uri).toBe(at('dave'));
    // the From tag too (RFC 3261 §8.1.3.5; tools/postinstall/sipjs-inviter-from-tag.js)
    expect([second.get('to'), second.get('from'), second.cseq.seq]).toEqual([first.get('to'), first.get('from'), first.cseq.seq + 1]);
    await respond(second, 200);
    expect(await movedResult).toBe(200);
    expect(moved).toMatchObject({ state: 'established', redirects: [{ status: 302, reason: 'Moved\x1b[2J Temporarily', target: at('dave') }] });
    await moved.hangup();
    await peer.send(okTo((await peer.next((m) => m.kind === 'request' && m.method === 'BYE')) as SipMessage & { kind: 'request' }), bob.local.port);

    // A 300 with two Contacts: the higher q first; its 486 moves the call on to the other one.
    const choices = bob.createCall(at('erin'));
    const choicesResult = choices.invite();
    const c1 = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.uri === at('erin'));
    await respond(c1, 300, [`<${at('frank')}>;q=0.5, <${at('grace')}>;q=0.9`]);
    const c2 = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.callId === c1.callId);
    expect(c2.kind === 'request' && c2.uri).toBe(at('grace'));
    await respond(c2, 486);
    const c3 = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.callId === c1.callId);
    expect(c3.kind === 'request' && c3.uri).toBe(at('frank'));
    await respond(c3, 200);
    expect(await choicesResult).toBe(200);
    expect(choices.redirects.map((r) => `${r.status} ${r.target}`)).toEqual([`300 ${at('grace')}`, `486 ${at('frank')}`]);
    await choices.hangup();
    await peer.send(okTo((await peer.next((m) => m.kind === 'request' && m.method === 'BYE' && m.callId === c1.callId)) as SipMessage & { kind: 'request' }), bob.local.port);

    // Two targets that send the call to each other: each is tried once, then the 302 is the answer.
    const loop = bob.createCall(at('henry'));
    const loopResult = loop.invite();
    const l1 = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.uri === at('henry'));
    await respond(l1, 302, [`<${at('ivy')}>`]);
    const l2 = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.callId === l1.callId);
    await respond(l2, 302, [`<sip:henry@127.0.0.1:${peer.port};transport=udp>`]);
    expect(await loopResult).toBe(302);
    expect(loop.state).toBe('terminated');
    expect(invites(l1.callId)).toHaveLength(0); // both consumed by next(): no third INVITE came
    expect(loop.redirects.map((r) => r.target)).toEqual([at('ivy')]);

    // A chain of new targets: five redirections are followed, the sixth 302 ends the call.
    const chain = bob.createCall(at('u0'));
    const chainResult = chain.invite();
    let request = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.uri === at('u0'));
    for (let hop = 1; hop <= 6; hop++) {
      await respond(request, 302, [`<${at(`u${hop}`)}>`]);
      if (hop === 6) break;
      request = await peer.next((m) => m.kind === 'request' && m.method === 'INVITE' && m.uri === at(`u${hop}`));
    }
    expect(await chainResult).toBe(302);
    expect(chain.redirects.map((r) => r.target)).toEqual([1, 2, 3, 4, 5].map((n) => at(`u${n}`)));
    expect(chain).toMatchObject({ state: 'terminated', finalStatus: 302 });
  });

  it('counts a response sip.js cannot read, and ends no call on its Call-ID: a forged one would hang up the call', async () => {
    const { peer, bob, calls } = await setUp();
    await answeredInvite(peer, bob.local.port, 'victim-1');
    await until(() => calls[0]?.state === 'established' || undefined);
    const attacker = await RawPeer.open();
    cleanups.push(() => attacker.close());
    // the call's Call-ID, a guessed branch and made-up tags; our address in the Via, as the transport requires
    const forged = ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-guessed', 'From: <sip:x@127.0.0.1>;tag=x', 'To: <sip:y@127.0.0.1>;tag=y', 'Call-ID: victim-1', 'CSeq: 7 INVITE', 'Contact: <isbn:1234>;;', 'Content-Length: 0', '', ''].join('\r\n');
    await attacker.send(forged, bob.local.port);
    await until(() => bob.rejects.snapshot().SIPJS_UNPARSED === 1 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls[0]!.state).toBe('established');
    expect(attacker.received).toEqual([]); // and nothing answers a response
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
    // What our codec reads and sip.js's parser refuses (a Contact its grammar cannot read) was dropped by sip.js
    // without a word: now it is counted, and answered 400 (RFC 3261 §21.4.1) so that its sender stops retransmitting.
    await peer.send(invite(peer.port, bob.local.port, 'bad-4').replace('Content-Length:', 'Contact: <isbn:1234>;;\r\nContent-Length:'), bob.local.port);
    const unreadable = await peer.next((m) => m.kind === 'response' && m.callId === 'bad-4');
    expect(unreadable.kind === 'response' && unreadable.status).toBe(400);
    expect(unreadable.get('to')).toMatch(/;tag=\S+/); // RFC 3261 §8.2.6.2
    expect(bob.rejects.total).toBeGreaterThanOrEqual(7);
    expect(bob.rejects.snapshot()).toMatchObject({ BAD_URI: 1, SIPJS_REFUSED: 1, SIPJS_UNPARSED: 1 });
    expect(calls).toHaveLength(0);

    await peer.send(invite(peer.port, bob.local.port, 'good-1'), bob.local.port);
    const ok = await peer.next((m) => m.kind === 'response' && m.status === 200);
    await peer.send(inDialog('ACK', 1, peer.port, bob.local.port, 'good-1', /tag=([^;>\s]+)/.exec(ok.get('to')!)![1]!), bob.local.port);
    expect(calls).toHaveLength(1);
  });

  it('shuts down promptly while its answered call still waits for the ACK, and still answers the BYE that follows', async () => {
    const { peer, bob, calls } = await setUp();
    const toTag = await answeredInvite(peer, bob.local.port, 'ackwait-1');
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

/**
 * Issue 19 item 1: an exception thrown inside sip.js at one of its timers (a transaction's, a dialog's 2xx
 * retransmission, an Invitation's) is caught at that boundary (tools/postinstall/sipjs-fault-guard.js), logged once,
 * counted, and the call it belongs to is ended; the process and the identity go on. The faults are injected into
 * sip.js's own methods, or come from a listener sip.js calls from its timer.
 */
describe('a fault of sip.js at one of its timers', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  const saved = { ...Core.Timers };
  afterEach(async () => {
    vi.restoreAllMocks();
    Object.assign(Core.Timers, saved);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(answer: boolean): Promise<{ peer: RawPeer; bob: SipIdentity; calls: SipCall[]; faulted: string[] }> {
    const peer = await RawPeer.open();
    cleanups.push(() => peer.close());
    const calls: SipCall[] = [];
    const faulted: string[] = [];
    const bob = await SipIdentity.create({
      aor: { user: 'bob', domain: '127.0.0.1' },
      transport: 'udp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port: peer.port },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      timers: { t1: 100, t2: 400 },
      onIncomingCall: (call) => {
        calls.push(call);
        if (answer) void call.answer();
      },
      onCallFault: (call, reason) => faulted.push(`${call.callId}: ${reason}`),
    });
    cleanups.push(() => bob.dispose());
    return { peer, bob, calls, faulted };
  }

  async function answeredCall(peer: RawPeer, bob: SipIdentity, callId: string): Promise<string> {
    const toTag = await answeredInvite(peer, bob.local.port, callId);
    await peer.send(inDialog('ACK', 1, peer.port, bob.local.port, callId, toTag), bob.local.port);
    return toTag;
  }

  it('in a transaction timer of an established call: caught, logged once, counted, and the call ends with a BYE', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // Timer J's handler is private in sip.js's types; the transaction runs it from its timer.
    type TimerJ = { timerJ(this: Core.NonInviteServerTransaction): void };
    const prototype = Core.NonInviteServerTransaction.prototype as unknown as TimerJ;
    const timerJ = prototype.timerJ;
    const injected = vi.spyOn(prototype, 'timerJ').mockImplementation(function (this: Core.NonInviteServerTransaction) {
      if (this.request.method === 'INFO') throw new Error('injected fault in Timer J');
      timerJ.call(this);
    });
    const before = sipStackGuard.snapshot();
    const { peer, bob, calls, faulted } = await setUp(true);
    for (const [n, callId] of ['fault-j-1', 'fault-j-2'].entries()) {
      const toTag = await answeredCall(peer, bob, callId);
      await until(() => calls[n]?.state === 'established');
      await peer.send(inDialog('INFO', 2, peer.port, bob.local.port, callId, toTag), bob.local.port);
      // Timer J fires as the INFO is answered (0 s here, as sip.js sets it) and throws: the call ends with a BYE.
      const bye = await peer.next((m) => m.kind === 'request' && m.method === 'BYE' && m.callId === callId);
      await peer.send(okTo(bye as SipMessage & { kind: 'request' }), bob.local.port);
      await calls[n]!.whenEnded();
      expect(calls[n]!).toMatchObject({ state: 'terminated', endedBy: 'local', fault: 'SIP stack fault: injected fault in Timer J' });
    }
    const after = sipStackGuard.snapshot();
    expect(after.byMessage['injected fault in Timer J']! - (before.byMessage['injected fault in Timer J'] ?? 0)).toBe(2);
    expect(after.bySite.timer - before.bySite.timer).toBe(2);
    expect(after.callsEnded - before.callsEnded).toBe(2);
    expect(bob.rejects.snapshot().SIPJS_FAULT).toBe(2);
    expect(faulted).toEqual(['fault-j-1: SIP stack fault: injected fault in Timer J', 'fault-j-2: SIP stack fault: injected fault in Timer J']);
    // Logged once for the two faults alike, with where it happened.
    const lines = logged.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('injected fault in Timer J'));
    expect(lines).toHaveLength(before.byMessage['injected fault in Timer J'] === undefined ? 1 : 0);
    if (lines[0] !== undefined) expect(lines[0]).toMatch(/SIP stack fault in a sip\.js timer of NonInviteServerTransaction \(Call-ID fault-j-1\)/);
    // The identity takes the next call as ever.
    injected.mockRestore();
    await answeredCall(peer, bob, 'after-faults');
    await until(() => calls[2]?.state === 'established');
  });

  it('in the 2xx retransmission timer of a dialog: the call ends here at once, and with a BYE once the ACK wait is over (RFC 3261 §15)', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    Core.Timers.T1 = 20; // the first retransmission of the 200
    Core.Timers.TIMER_L = 400;
    vi.spyOn(Core.InviteServerTransaction.prototype, 'retransmitAcceptedResponse').mockImplementation(() => {
      throw new Error('injected fault in the 2xx retransmission');
    });
    const { peer, bob, calls } = await setUp(true);
    await peer.send(invite(peer.port, bob.local.port, 'fault-2xx'), bob.local.port);
    await peer.next((m) => m.kind === 'response' && m.status === 200);
    await until(() => calls[0]?.state === 'terminated'); // no ACK is ever sent
    expect(calls[0]!.fault).toBe('SIP stack fault: injected fault in the 2xx retransmission');
    const bye = await peer.next((m) => m.kind === 'request' && m.method === 'BYE' && m.callId === 'fault-2xx');
    await peer.send(okTo(bye as SipMessage & { kind: 'request' }), bob.local.port);
    expect(bob.rejects.snapshot().SIPJS_FAULT).toBe(1);
  });

  it("in an Invitation's no-answer timer (a listener sip.js calls from it throws): caught, counted, the caller gets its 480", async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { peer, bob, calls } = await setUp(false);
    bob.userAgent.configuration.noAnswerTimeout = 0.2; // seconds; read when the INVITE arrives
    const before = sipStackGuard.snapshot().bySite.timer;
    await peer.send(invite(peer.port, bob.local.port, 'fault-noanswer'), bob.local.port);
    await until(() => calls[0]);
    calls[0]!.onChange((call) => {
      if (call.state === 'terminated') throw new Error('injected fault in a listener');
    });
    const refused = await peer.next((m) => m.kind === 'response' && m.status >= 300);
    expect(refused.kind === 'response' && refused.status).toBe(480);
    await until(() => sipStackGuard.snapshot().bySite.timer > before);
    expect(sipStackGuard.snapshot().byMessage['injected fault in a listener']).toBeGreaterThanOrEqual(1);
    expect(calls[0]!.state).toBe('terminated');
    // And the identity is still there for the next call.
    await peer.send(invite(peer.port, bob.local.port, 'after-noanswer'), bob.local.port);
    await until(() => calls[1]);
  });

  it('while taking a message of a call (delivered from the socket): caught, counted, and that call ends with a BYE', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { peer, bob, calls } = await setUp(true);
    const toTag = await answeredCall(peer, bob, 'fault-msg');
    await until(() => calls[0]?.state === 'established');
    throwWhenHanded(bob, 'INFO ', 'injected fault taking a message');
    await peer.send(inDialog('INFO', 2, peer.port, bob.local.port, 'fault-msg', toTag), bob.local.port);
    const bye = await peer.next((m) => m.kind === 'request' && m.method === 'BYE' && m.callId === 'fault-msg');
    await peer.send(okTo(bye as SipMessage & { kind: 'request' }), bob.local.port);
    await calls[0]!.whenEnded();
    expect(calls[0]!.fault).toBe('SIP stack fault: injected fault taking a message');
    expect(bob.rejects.snapshot()).toMatchObject({ SIPJS_REFUSED: 1, SIPJS_FAULT: 1 });
  });

  it('while taking a message that names a call by its Call-ID but not by its tags: counted, and no call ends (anyone may learn a Call-ID)', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { peer, bob, calls } = await setUp(true);
    const toTag = await answeredCall(peer, bob, 'fault-tags');
    await until(() => calls[0]?.state === 'established');
    throwWhenHanded(bob, 'INFO ', 'injected fault taking a message');
    // our tag guessed wrong, then the caller's tag wrong: neither is the call's
    await peer.send(inDialog('INFO', 2, peer.port, bob.local.port, 'fault-tags', 'guessed'), bob.local.port);
    await peer.send(inDialog('INFO', 3, peer.port, bob.local.port, 'fault-tags', toTag).replace('tag=a-fault-tags', 'tag=other'), bob.local.port);
    await until(() => bob.rejects.snapshot().SIPJS_REFUSED === 2 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls[0]!.state).toBe('established');
    expect(bob.rejects.snapshot().SIPJS_FAULT).toBeUndefined();
  });

  it('while taking the CANCEL of a ringing call (no To tag: named by its INVITE\'s From tag and branch): that call ends', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { peer, bob, calls } = await setUp(false);
    await peer.send(invite(peer.port, bob.local.port, 'fault-cancel'), bob.local.port);
    await until(() => calls[0]?.state === 'incoming' || undefined);
    throwWhenHanded(bob, 'CANCEL ', 'injected fault taking a CANCEL');
    const cancel = invite(peer.port, bob.local.port, 'fault-cancel').split('\r\n\r\n')[0]!
      .replace(/^INVITE /, 'CANCEL ').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL').replace(/Content-Type:.*\r\n/, '').replace(/Content-Length: \d+/, 'Content-Length: 0') + '\r\n\r\n';
    await peer.send(cancel, bob.local.port);
    await until(() => bob.rejects.snapshot().SIPJS_REFUSED === 1 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls[0]!.state).toBe('terminated');
  });

  it('told by a socket callback that its connection closed, and sip.js throws: caught and counted', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => accepted.forEach((socket) => socket.destroy()));
    const port = (server.address() as net.AddressInfo).port;
    const bob = await SipIdentity.create({
      aor: { user: 'bob', domain: '127.0.0.1' },
      transport: 'tcp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
    });
    cleanups.push(() => bob.dispose({ serverGone: true }));
    // sip.js calls its delegate from the transport's disconnect, inside the socket's close callback.
    bob.userAgent.delegate = {
      ...bob.userAgent.delegate,
      onDisconnect: () => {
        throw new Error('injected fault at disconnect');
      },
    };
    const before = sipStackGuard.snapshot().bySite.transport;
    (await until(() => accepted[0])).destroy();
    await until(() => sipStackGuard.snapshot().bySite.transport > before);
    expect(sipStackGuard.snapshot().byMessage['injected fault at disconnect']).toBeGreaterThanOrEqual(1);
  });
});
