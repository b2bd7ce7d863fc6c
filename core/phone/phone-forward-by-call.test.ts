import { afterEach, describe, expect, it } from 'vitest';
import type { PhoneEvent } from '../api/phone-types.js';
import { ToneSource } from '../media/audio-frame.js';
import { MediaSession } from '../media/media-session.js';
import { RtpPortAllocator } from '../media/rtp-port-allocator.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { ScriptPeer, type SipRequestMessage, type SipResponseMessage } from '../../test/support/script-peer.js';
import { until } from '../../test/support/until.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

/**
 * Forwarding by the phone placing the call (docs/forwarding.md) with callers that cannot be handed over by REFER. The
 * script peer is bob's server, the caller and the forward target at once; its media is real RTP on loopback.
 */
describe('forwarding by placing the call, with a caller that does not take REFER', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  const range = { min: 44000 + Math.floor(Math.random() * 100) * 10, max: 0 };
  range.max = range.min + 9;
  const allocator = new RtpPortAllocator(range);

  async function setUp(): Promise<{ peer: ScriptPeer; bob: Phone; events: PhoneEvent[]; contact: string; media: () => Promise<MediaSession> }> {
    const network = new MemoryNetwork();
    const peer = await ScriptPeer.open(network);
    cleanup.push(() => peer.socket.close());
    peer.answersRegister = false;
    const events: PhoneEvent[] = [];
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: peer.uri, transport: 'udp', domain: '127.0.0.1', forward: { when: 'always', to: 'carol', by: 'call' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      audioPort: true, // as under a UI with an audio bridge
      timers: { t1: 100, t2: 400 },
      sockets: network,
    });
    bob.subscribe((e) => events.push(e));
    cleanup.push(() => bob.shutdown());
    const registered = bob.register();
    const register = await peer.take(peer.request('REGISTER'));
    await peer.reply(register, 200, 'OK', [`Contact: ${register.get('contact')};expires=60`], '', 'r1');
    await registered;
    peer.answersRegister = true; // the unregister at shutdown
    const contact = /<([^>]+)>/.exec(register.get('contact')!)![1]!;
    const media = async (): Promise<MediaSession> => {
      const session = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator });
      cleanup.push(() => session.close());
      return session;
    };
    return { peer, bob, events, contact, media };
  }

  /** alice's INVITE to bob's Contact, from the server's address (bob takes calls only from its server). */
  function invite(peer: ScriptPeer, contact: string, sdp: string, allow: string | undefined): string {
    return [
      `INVITE ${contact} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-fwd-1;rport`,
      'Max-Forwards: 70',
      'From: "Alice" <sip:alice@127.0.0.1>;tag=a1',
      'To: <sip:bob@127.0.0.1>',
      'Call-ID: forward-by-call-1',
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${peer.endpoint.port}>`,
      ...(allow !== undefined ? [`Allow: ${allow}`] : []),
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ].join('\r\n');
  }

  const to = (peer: ScriptPeer, contact: string) => ({ address: '127.0.0.1', port: Number(/:(\d+)(?:[;>]|$)/.exec(contact)![1]) });

  it('a caller whose INVITE does not list REFER in Allow gets the 302 (RFC 3261 §20.5): nothing is placed, the history says forwarded', async () => {
    const { peer, bob, contact, media } = await setUp();
    const caller = await media();
    await peer.send(invite(peer, contact, caller.createOffer(), 'INVITE, ACK, CANCEL, BYE, OPTIONS'), to(peer, contact));
    const moved = await peer.take(peer.response(302));
    expect(moved.get('contact')).toMatch(/^<sip:carol@127\.0\.0\.1>/);
    expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'INVITE')).toEqual([]);
    await expect.poll(async () => (await bob.history()).calls.map((c) => [c.direction, c.result, c.status])).toEqual([['incoming', 'forwarded', 302]]);
  });

  /**
   * alice calls bob, whose rule forwards by calling carol (the peer); carol answers; alice is answered and ACKs; bob's
   * REFER (Replaces naming its call with carol) arrives, to be answered by the test.
   */
  async function referredToCarol() {
    const { peer, bob, events, contact, media } = await setUp();
    const caller = await media();
    const target = await media();
    await peer.send(invite(peer, contact, caller.createOffer(), 'INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, REFER'), to(peer, contact));
    await peer.take(peer.response(180)); // the caller hears ringing while the phone calls carol

    // the phone calls carol (the peer again): carol answers
    const outgoing = (await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'INVITE' && m.callId !== 'forward-by-call-1')) as SipRequestMessage;
    expect(outgoing.uri).toMatch(/^sip:carol@127\.0\.0\.1/);
    await peer.reply(outgoing, 200, 'OK', [`Contact: <sip:carol@127.0.0.1:${peer.endpoint.port}>`], target.acceptOffer(outgoing.body), 'c1');
    await peer.take((m) => m.kind === 'request' && m.method === 'ACK' && m.callId === outgoing.callId);

    // now the caller is answered, ACKs, and is asked to replace the phone's call with carol
    const answered = (await peer.take((m): m is SipResponseMessage => m.kind === 'response' && m.status === 200 && m.callId === 'forward-by-call-1')) as SipResponseMessage;
    caller.acceptAnswer(answered.body);
    const bobContact = /<([^>]+)>/.exec(answered.get('contact')!)![1]!;
    await peer.send(
      [`ACK ${bobContact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-fwd-ack;rport`, 'Max-Forwards: 70', 'From: "Alice" <sip:alice@127.0.0.1>;tag=a1', `To: ${answered.get('to')}`, 'Call-ID: forward-by-call-1', 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'),
      to(peer, bobContact),
    );
    const refer = await peer.take(peer.request('REFER'));
    expect(refer.get('refer-to')).toMatch(/^<sip:carol@[^>]*\?Replaces=/i);
    return { peer, bob, events, caller, target, outgoing, answered, bobContact, refer };
  }

  /** An in-dialog request of alice's to bob (CSeq `seq`). */
  const fromAlice = (peer: ScriptPeer, bobContact: string, answered: SipResponseMessage, method: string, seq: number, headers: string[] = [], body = ''): string =>
    [`${method} ${bobContact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-fwd-${method}-${seq};rport`, 'Max-Forwards: 70', 'From: "Alice" <sip:alice@127.0.0.1>;tag=a1', `To: ${answered.get('to')}`, 'Call-ID: forward-by-call-1', `CSeq: ${seq} ${method}`, `Contact: <sip:alice@127.0.0.1:${peer.endpoint.port}>`, ...headers, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');

  it('a target that ignores Replaces (baresip 1.0) and keeps the phone\'s call up: the phone ends it once the caller reached the target', async () => {
    const { peer, outgoing, answered, bobContact, refer } = await referredToCarol();
    await peer.reply(refer, 202, 'Accepted');
    // alice reached carol (NOTIFY 200); carol took alice's INVITE as a new call and never ends the phone's
    await peer.send(fromAlice(peer, bobContact, answered, 'NOTIFY', 2, ['Event: refer', 'Subscription-State: terminated;reason=noresource', 'Content-Type: message/sipfrag'], 'SIP/2.0 200 OK\r\n'), to(peer, bobContact));
    await peer.take((m) => m.kind === 'response' && m.status === 200 && m.callId === 'forward-by-call-1');
    const byeToAlice = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'BYE' && m.callId === 'forward-by-call-1');
    await peer.reply(byeToAlice as SipRequestMessage, 200, 'OK');
    const byeToCarol = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'BYE' && m.callId === outgoing.callId, 5000);
    await peer.reply(byeToCarol as SipRequestMessage, 200, 'OK');
  });

  it('a caller that refuses the REFER (405) stays connected to the target through the phone, which relays the audio both ways', async () => {
    const { peer, bob, events, caller, target, outgoing, answered, bobContact, refer } = await referredToCarol();
    await peer.reply(refer, 405, 'Method Not Allowed', ['Allow: INVITE, ACK, CANCEL, BYE, OPTIONS']);

    // relayed: what the caller says reaches carol, and what carol says reaches the caller
    caller.play(new ToneSource(700));
    target.play(new ToneSource(1200));
    await until(() => target.recent.toneShare(700) > 0.8 && caller.recent.toneShare(1200) > 0.8, 10_000);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    // none of it is routed to the host's audio port (the user's speaker and microphone)
    const played: string[] = [];
    const stopListening = bob.audio!.onPlayback((callId) => void played.push(callId));
    await until(() => target.stats().packetsReceived > 50);
    stopListening();
    expect(played).toEqual([]);
    expect(bob.audio!.stats().routedCalls).toBe(0);

    // the caller hangs up: the phone ends its call with carol too
    await peer.send(
      [`BYE ${bobContact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-fwd-bye;rport`, 'Max-Forwards: 70', 'From: "Alice" <sip:alice@127.0.0.1>;tag=a1', `To: ${answered.get('to')}`, 'Call-ID: forward-by-call-1', 'CSeq: 2 BYE', 'Content-Length: 0', '', ''].join('\r\n'),
      to(peer, bobContact),
    );
    const bye = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'BYE' && m.callId === outgoing.callId);
    await peer.reply(bye, 200, 'OK');
    await until(() => events.filter((e) => e.type === 'call' && e.call.state === 'terminated').length >= 2);
    expect((await bob.history()).calls.map((c) => [c.direction, c.result])).toEqual(expect.arrayContaining([['incoming', 'forwarded'], ['outgoing', 'forwarded']]));
  });
});
