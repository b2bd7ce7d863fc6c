import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { pcmuSdp, type ScriptPeer, type SipRequestMessage } from '../../test/support/script-peer.js';
import type { SipMessage } from './message/index.js';
import { identityFacingPeer, inviteFromPeer } from '../../test/support/scripted-identity.js';
import { until } from '../../test/support/until.js';
import type { SipIdentity } from './sip-identity.js';

const timers = { t1: 20, t2: 80 };

/** RFC 3262 between a SipIdentity and a scripted peer on the in-memory network. */
describe('reliable provisional responses (RFC 3262)', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const setup = (): ReturnType<typeof identityFacingPeer> => identityFacingPeer(network, cleanup, timers);

  const invite = inviteFromPeer;

  /** A PRACK for the reliable 18x `provisional`, in its early dialog. */
  function prack(peer: ScriptPeer, identity: SipIdentity, provisional: { get(name: string): string | undefined }, rack: string, branch: string, cseq: number, body = ''): string {
    return [
      `PRACK sip:bob@127.0.0.1:${identity.local.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-${branch}`,
      'Max-Forwards: 70',
      `From: ${provisional.get('from')}`,
      `To: ${provisional.get('to')}`,
      `Call-ID: ${provisional.get('call-id')}`,
      `CSeq: ${cseq} PRACK`,
      `RAck: ${rack}`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  it('as UAS meets Require: 100rel: a reliable 180 with RSeq, retransmitted until the PRACK whose RAck matches, 481 for any other', async () => {
    const { peer, identity, incoming } = await setup();
    // Both header fields at once, as carriers send them: sip.js alone answered this with an unreliable 180.
    await peer.send(invite(peer, identity, 'rel-1', ['Require: 100rel', 'Supported: 100rel, timer']), identity.local);
    const call = await until(() => incoming[0]);
    await call.ring();
    const first = await peer.take(peer.response(180));
    expect(first.getAll('require').join(',')).toMatch(/\b100rel\b/);
    const rseq = Number(first.get('rseq'));
    expect(rseq).toBeGreaterThanOrEqual(1);
    expect(rseq).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(first.body).toBe(''); // our answer goes in the 2xx (RFC 3262 §5), so nothing is sent before the user answers
    // Not acknowledged: it comes again (RFC 3262 §3), the same RSeq.
    const again = await peer.take(peer.response(180));
    expect(Number(again.get('rseq'))).toBe(rseq);

    await peer.send(prack(peer, identity, first, `${rseq + 1} 17 INVITE`, 'p1', 18), identity.local);
    expect((await peer.take(peer.response(481, 'PRACK'))).status).toBe(481);
    // An offer in the PRACK while the INVITE's own is unanswered is one offer too many (RFC 3261 §13.2.1).
    await peer.send(prack(peer, identity, first, `${rseq} 17 INVITE`, 'p-offer', 19, pcmuSdp(40002, 2)), identity.local);
    await peer.take(peer.response(491, 'PRACK'));
    await peer.send(prack(peer, identity, first, `${rseq} 17 INVITE`, 'p2', 20), identity.local);
    await peer.take(peer.response(200, 'PRACK'));
    // The same response acknowledged twice (a new PRACK, not a retransmission) matches nothing unacknowledged any more.
    await peer.send(prack(peer, identity, first, `${rseq} 17 INVITE`, 'p3', 21), identity.local);
    await peer.take(peer.response(481, 'PRACK'));
    expect(call.reliable?.pracks).toEqual({ acknowledged: 1, unmatched: 2, offers: 1 });

    await call.answer();
    const ok = await peer.take(peer.response(200));
    expect(ok.get('allow')).toMatch(/\bPRACK\b/);
    expect(ok.getAll('supported').join(',')).toMatch(/\b100rel\b/);
  });

  it('as UAS answers a PRACK that comes after the 2xx, and refuses an INVITE whose reliable 180 is never acknowledged with 504', async () => {
    const { peer, identity, incoming } = await setup();
    await peer.send(invite(peer, identity, 'rel-2', ['Require: 100rel']), identity.local);
    const answered = await until(() => incoming[0]);
    await answered.ring();
    const ringing = await peer.take(peer.response(180));
    await answered.answer(); // the 180 carried no SDP, so the 2xx need not wait for its PRACK (RFC 3262 §3)
    const ok = await peer.take(peer.response(200));
    await peer.send(prack(peer, identity, ok, `${ringing.get('rseq')} 17 INVITE`, 'late', 18), identity.local);
    await peer.take(peer.response(200, 'PRACK'));
    expect(answered.state).toBe('established');

    await peer.send(invite(peer, identity, 'rel-3', ['Require: 100rel']), identity.local);
    const ignored = await until(() => incoming[1]);
    await ignored.ring();
    const refused = await peer.take(peer.response(504));
    expect(refused.get('call-id')).toBe('rel-3');
    expect(peer.received.filter((m) => m.kind === 'response' && m.status === 180 && m.callId === 'rel-3').length).toBeGreaterThanOrEqual(4);
    await until(() => ignored.state === 'terminated');
    expect(ignored).toMatchObject({ finalStatus: 504, endedBy: 'network' });
  });

  it('as UAS sends an unreliable 180 when the caller only supports 100rel, and answers a PRACK for it 481', async () => {
    const { peer, identity, incoming } = await setup();
    await peer.send(invite(peer, identity, 'rel-6', ['Supported: 100rel']), identity.local);
    const call = await until(() => incoming[0]);
    await call.ring();
    const ringing = await peer.take(peer.response(180));
    expect([ringing.get('require'), ringing.get('rseq')]).toEqual([undefined, undefined]);
    await peer.send(prack(peer, identity, ringing, '1 17 INVITE', 'p-none', 18), identity.local);
    await peer.take(peer.response(481, 'PRACK'));
  });

  it('as UAS rings an INVITE without an offer silently: a reliable 18x would have to carry our offer (RFC 3262 §5), the 2xx does', async () => {
    const { peer, identity, incoming } = await setup();
    await peer.send(invite(peer, identity, 'rel-5', ['Require: 100rel'], ''), identity.local);
    const call = await until(() => incoming[0]);
    await call.ring();
    await call.answer();
    const ok = await peer.take(peer.response(200));
    expect(ok.body).toMatch(/^m=audio /m);
    expect(peer.received.filter((m) => m.kind === 'response' && m.status > 100 && m.status < 200)).toEqual([]);
  });

  it('as UAS still refuses an option tag it does not support with 420 Bad Extension, naming only that one', async () => {
    const { peer, identity } = await setup();
    await peer.send(invite(peer, identity, 'rel-4', ['Require: 100rel, precondition']), identity.local);
    const refused = await peer.take(peer.response(420));
    expect(refused.get('unsupported')).toBe('precondition');
  });

  it('as UAC says Supported: 100rel and PRACKs a reliable 183 once, with RAck naming its RSeq and the INVITE', async () => {
    const { peer, identity } = await setup();
    const call = identity.createCall(`sip:carrier@127.0.0.1:${peer.endpoint.port}`);
    const status = call.invite();
    const inv = await peer.take(peer.request('INVITE'));
    expect(inv.getAll('supported').join(',')).toMatch(/\b100rel\b/);
    const contact = [`Contact: <sip:carrier@127.0.0.1:${peer.endpoint.port}>`];
    const reliable = [...contact, 'Require: 100rel', 'RSeq: 4711'];
    await peer.reply(inv, 183, 'Session Progress', reliable, pcmuSdp(40010), 'uas1');
    const pr: SipRequestMessage = await peer.take(peer.request('PRACK'));
    expect(pr.get('rack')).toBe(`4711 ${inv.cseq.seq} INVITE`);
    expect(pr.get('to')).toMatch(/tag=uas1/);
    await peer.reply(pr, 200, 'OK');
    // A retransmission of the same 183 is not acknowledged again (RFC 3262 §4); the next RSeq is.
    await peer.reply(inv, 183, 'Session Progress', reliable, pcmuSdp(40010), 'uas1');
    await peer.reply(inv, 180, 'Ringing', [...contact, 'Require: 100rel', 'RSeq: 4712'], '', 'uas1');
    const second = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'PRACK' && m.get('rack') === `4712 ${inv.cseq.seq} INVITE`);
    // Only retransmissions of the first PRACK (its own branch, Timer E) may have come besides: no new one for RSeq 4711.
    const branch = (m: SipMessage): string | undefined => /branch=([^;\s]+)/.exec(m.get('via') ?? '')?.[1];
    const others = peer.received.filter((m) => m.kind === 'request' && m.method === 'PRACK' && branch(m) !== branch(pr));
    expect(others).toEqual([]);
    await peer.reply(second, 200, 'OK');
    await peer.reply(inv, 200, 'OK', contact, pcmuSdp(40010), 'uas1');
    expect(await status).toBe(200);
    const ack = await peer.take(peer.request('ACK'));
    // A PRACK in the confirmed dialog acknowledges nothing we sent: 481 (RFC 3262 §3), where sip.js threw from the socket.
    const stray = [
      `PRACK ${inv.get('contact')!.replace(/^<|>.*$/g, '')} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-stray`,
      'Max-Forwards: 70',
      `From: ${ack.get('to')}`,
      `To: ${ack.get('from')}`,
      `Call-ID: ${inv.callId}`,
      'CSeq: 1 PRACK',
      'RAck: 1 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await peer.send(stray, identity.local);
    await peer.take(peer.response(481, 'PRACK'));
    expect(call.state).toBe('established');
  });
});
