import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { ToneSource } from '../media/audio-frame.js';
import { parseSipMessage, type SipMessage } from '../sip/message/index.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';


/** SIP through the in-memory network; the RTP is real (core/media's sockets on loopback). */
describe('Phone with plain RTP media', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('carries audio, reports DTMF from RFC 4733 and SIP INFO as events, and shows the remote hold', async () => {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const events: Record<string, PhoneEvent[]> = { alice: [], bob: [] };
    const make = (user: string, answer?: boolean): Phone => {
      const phone = new Phone({
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...(answer ? { answer: { kind: 'auto' as const } } : {}) }],
        createSessionDescriptionHandlerFactory: defaultMediaProvider,
        timers: { t1: 100, t2: 400 },
        sockets: network,
      });
      phone.subscribe((e) => events[user]!.push(e));
      cleanup.push(() => phone.shutdown());
      return phone;
    };
    const alice = make('alice');
    const bob = make('bob', true);
    await alice.register();
    await bob.register();
    const call = await alice.call({ target: 'bob' });
    await until(() => events.alice!.some((e) => e.type === 'call' && e.call.id === call.id && e.call.state === 'established'));
    const bobLeg = (events.bob!.find((e) => e.type === 'incoming') as Extract<PhoneEvent, { type: 'incoming' }>).call.id;

    alice.mediaOf(call.id)!.play(new ToneSource(1000));
    await until(() => (bob.mediaOf(bobLeg)?.recent.toneShare(1000) ?? 0) > 0.8);
    await alice.sendDtmf(call.id, '12');
    await bob.sendDtmf(bobLeg, '#', 'info');
    const digits = (who: string, id: string): string => events[who]!.filter((e): e is Extract<PhoneEvent, { type: 'dtmf' }> => e.type === 'dtmf' && e.callId === id).map((e) => e.digit).join('');
    await until(() => digits('bob', bobLeg) === '12' && digits('alice', call.id) === '#');

    await alice.hold(call.id, true);
    const held = await until(() => {
      const last = events.bob!.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === bobLeg).at(-1);
      return last?.call.remoteHold ? last.call : undefined;
    });
    expect(held.media).toMatchObject({ codec: 'PCMU', sending: false });
    await alice.hangup(call.id);
    const ended = await until(() => events.alice!.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === call.id && e.call.state === 'terminated').at(-1));
    expect(ended.call.media!.packetsReceived).toBeGreaterThan(10);
    // SPEC F: the log holds what the call really used — sockets, server, media ports on both sides, codec.
    const logged = (await alice.callDetail(call.id))!;
    expect(logged).toMatchObject({ transport: 'udp', codec: 'PCMU', localAddress: '127.0.0.1', remoteSip: lab.servers.udp!.replace(/^sip:|;.*$/g, ''), ports: { min: 16384, max: 32767 } });
    expect(logged.localRtp).toBe(ended.call.media!.localRtp);
    expect(logged.remoteRtp).toBe(ended.call.media!.remoteRtp);
    expect(Number(logged.localRtp!.split(':')[1])).toBeGreaterThanOrEqual(16384);
    expect((await bob.callDetail(bobLeg))!.remoteRtp).toBe(logged.localRtp);
  });

  // With a signaling-only one-time address the socket sends from the host's own address, which the Warning must not
  // name (seed 000); on one-time addresses it names none of ours (`anonymous.invalid`): the caller never rang, and the
  // receiving address is not replaced after such a call.
  it.each([
    { addressing: 'a fixed address', address: undefined },
    { addressing: 'a signaling-only one-time address', address: { mode: 'temporary' as const, source: 'configured' as const, prefix: '2001:db8:5:5::/64', applier: 'signaling-only' as const } },
  ])('refuses an INVITE whose SDP it cannot use with 488 and a Warning, before ringing ($addressing)', async ({ address }) => {
    const peer = await network.bindUdp({ address: '127.0.0.1', port: 0 });
    cleanup.push(() => peer.close());
    const received: SipMessage[] = [];
    const raws: string[] = [];
    peer.onMessage = (data) => {
      raws.push(data.toString('latin1'));
      const message = parseSipMessage(data);
      received.push(message);
      if (message.kind === 'request' && message.method === 'REGISTER') {
        const via = message.get('via')!;
        peer.send(`SIP/2.0 200 OK\r\nVia: ${via}\r\nFrom: ${message.get('from')}\r\nTo: ${message.get('to')};tag=r1\r\nCall-ID: ${message.callId}\r\nCSeq: ${message.get('cseq')}\r\nContact: ${message.get('contact')};expires=60\r\nContent-Length: 0\r\n\r\n`, { address: '127.0.0.1', port: message.topVia!.port! });
      }
    };
    const events: PhoneEvent[] = [];
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: `sip:127.0.0.1:${peer.local.port}`, transport: 'udp', answer: { kind: 'manual' }, ...(address ? { address } : {}) }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers: { t1: 100, t2: 400 },
      sockets: network,
    });
    bob.subscribe((e) => events.push(e));
    cleanup.push(() => bob.shutdown());
    const registration = await bob.register();
    const [, contactHost, contactPort] = /@(\[[^\]]+\]|[^:;>]+):(\d+)/.exec(registration.contact!)!;
    const port = Number(contactPort);
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n';
    const invite = [
      `INVITE sip:bob@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.local.port};branch=z9hG4bK-g729`,
      'Max-Forwards: 70',
      'From: <sip:carol@127.0.0.1>;tag=c1',
      'To: <sip:bob@127.0.0.1>',
      'Call-ID: g729-only',
      'CSeq: 1 INVITE',
      `Contact: <sip:carol@127.0.0.1:${peer.local.port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${sdp.length}`,
      '',
      sdp,
    ].join('\r\n');
    void peer.send(invite, { address: '127.0.0.1', port });
    const answer = await until(() => received.find((m): m is Extract<SipMessage, { kind: 'response' }> => m.kind === 'response' && m.status >= 200));
    expect(answer.status).toBe(488);
    expect(answer.get('warning')).toBe(`305 ${address ? 'anonymous.invalid' : contactHost} "none of the offered formats (18) is PCMU or PCMA"`);
    expect(contactHost).toEqual(address ? expect.stringMatching(/^\[2001:db8:5:5:/) : '127.0.0.1');
    expect(raws.filter((raw) => raw.startsWith('SIP/2.0 488')).join('')).not.toContain('2001:db8:5:5:');
    expect(received.some((m) => m.kind === 'response' && m.status === 180)).toBe(false);
    // It never rang, so nothing told the user of it (no incoming event: no notification, no incoming-call view),
    // but the history keeps it.
    await until(() => events.some((e) => e.type === 'call' && e.call.state === 'terminated'));
    expect(events.filter((e) => e.type === 'incoming')).toEqual([]);
    const [logged] = (await bob.history({ direction: 'incoming' })).calls;
    expect(logged).toMatchObject({ sipCallId: 'g729-only', remoteUser: 'carol' });
  });
});
