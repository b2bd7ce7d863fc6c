import { describe, expect, it } from 'vitest';
import { MediaError } from './media-error.js';
import { answerOffer, applyAnswer, buildOffer, type LocalAudio } from './sdp-negotiation.js';
import { formatSdp, parseSdp } from './sdp.js';

const local = (over: Partial<LocalAudio> = {}): LocalAudio => ({ address: '127.0.0.1', rtpPort: 40000, codecs: ['PCMU', 'PCMA'], direction: 'sendrecv', sessionId: '42', version: 1, ...over });

const sippOffer = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 0 96',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:96 telephone-event/8000',
  'a=fmtp:96 0-15',
  'm=video 6002 RTP/AVP 31',
  '',
].join('\r\n');

describe('SDP and RFC 3264 offer/answer', () => {
  it('offers PCMU, PCMA and telephone-event with ptime 20 and no user name anywhere', () => {
    const sdp = formatSdp(buildOffer(local({ address: '2001:db8::7' })));
    expect(sdp).toContain('o=- 42 1 IN IP6 2001:db8::7\r\n');
    expect(sdp).toContain('s=-\r\n');
    expect(sdp).toContain('c=IN IP6 2001:db8::7\r\n');
    expect(sdp).toContain('m=audio 40000 RTP/AVP 0 8 101\r\n');
    expect(sdp).toContain('a=rtpmap:101 telephone-event/8000\r\n');
    expect(sdp).toContain('a=ptime:20\r\n');
    expect(sdp).toContain('a=sendrecv\r\n');
    expect(parseSdp(sdp).media[0]!.rtpmap.get(0)).toEqual({ encoding: 'PCMU', clockRate: 8000 });
  });

  it('answers with the offerer\'s preferred codec, its telephone-event type, and refuses other streams with port 0', () => {
    const { answer, negotiated } = answerOffer(parseSdp(sippOffer), local());
    expect(negotiated).toMatchObject({ codec: 'PCMA', payloadType: 8, dtmfPayloadType: 96, send: true, receive: true, remote: { address: '127.0.0.1', rtpPort: 6000, rtcpPort: 6001 } });
    expect(answer.media.map((m) => `${m.media} ${m.port} ${m.formats.join(',')}`)).toEqual(['audio 40000 8,96', 'video 0 31']);
  });

  it('answers hold with recvonly, our hold with sendonly, and both with inactive (RFC 3264 §6.1, §8.4)', () => {
    const held = parseSdp(sippOffer.replace('m=video 6002 RTP/AVP 31\r\n', 'a=sendonly\r\n'));
    expect(answerOffer(held, local()).answer.media[0]!.direction).toBe('recvonly');
    expect(answerOffer(held, local()).negotiated).toMatchObject({ send: false, receive: true, remoteDirection: 'sendonly' });
    expect(answerOffer(parseSdp(sippOffer), local({ direction: 'sendonly' })).answer.media[0]!.direction).toBe('sendonly');
    expect(answerOffer(held, local({ direction: 'sendonly' })).answer.media[0]!.direction).toBe('inactive');
  });

  it('treats c=0.0.0.0 as "send nothing" (RFC 2543 hold): a hold, answered recvonly (RFC 3264 §8.4; issue 19 item 7)', () => {
    const old = parseSdp(sippOffer.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0'));
    const { answer, negotiated } = answerOffer(old, local());
    expect(negotiated).toMatchObject({ send: false, receive: true, remoteDirection: 'sendonly' });
    expect(negotiated.remote).toBeUndefined();
    expect(answer.media[0]!.direction).toBe('recvonly');
    // Holding ourselves too: inactive. A recvonly stream so held sends nothing either way.
    expect(answerOffer(old, local({ direction: 'sendonly' })).answer.media[0]!.direction).toBe('inactive');
    const recvonly = parseSdp(sippOffer.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0').replace('m=video 6002 RTP/AVP 31\r\n', 'a=recvonly\r\n'));
    expect(answerOffer(recvonly, local()).negotiated).toMatchObject({ send: false, receive: false, remoteDirection: 'inactive' });
    // The same in an answer to our offer: the peer that answers with c=0.0.0.0 holds the call.
    const offer = local();
    const { answer: theirs } = answerOffer(buildOffer(offer), local({ rtpPort: 50000 }));
    const heldAnswer = parseSdp(formatSdp(theirs).replace(/c=IN IP4 127\.0\.0\.1/g, 'c=IN IP4 0.0.0.0'));
    expect(applyAnswer(heldAnswer, offer)).toMatchObject({ send: false, receive: true, remoteDirection: 'sendonly' });
  });

  it('applies an answer to our offer', () => {
    const offer = local();
    const { answer } = answerOffer(buildOffer(offer), local({ rtpPort: 50000, codecs: ['PCMA'] }));
    expect(applyAnswer(parseSdp(formatSdp(answer)), offer)).toMatchObject({ codec: 'PCMA', payloadType: 8, dtmfPayloadType: 101, remote: { rtpPort: 50000 } });
  });

  it.each([
    ['not SDP at all', 'hello'],
    ['no o= line', 'v=0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n'],
    ['a broken m= line', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio port RTP/AVP 0\r\n'],
    ['a port over 65535', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n'],
    ['no connection address', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n'],
    ['an oversized body', `v=0\r\n${'a=x\r\n'.repeat(5000)}`],
  ])('rejects %s with BAD_SDP', (_name, text) => {
    expect(() => parseSdp(text)).toThrow(MediaError);
    try {
      parseSdp(text);
    } catch (error) {
      expect((error as MediaError).code).toBe('BAD_SDP');
    }
  });

  it('refuses an offer without G.711 as NO_COMMON_CODEC', () => {
    const g729 = parseSdp(sippOffer.replace('m=audio 6000 RTP/AVP 8 0 96', 'm=audio 6000 RTP/AVP 18').replace(/a=rtpmap:[08] .*\r\n/g, ''));
    expect(() => answerOffer(g729, local())).toThrow(/none of the offered formats/);
    const srtp = parseSdp(sippOffer.replace('RTP/AVP 8 0 96', 'RTP/SAVP 8 0 96').replace('m=video 6002 RTP/AVP 31\r\n', ''));
    expect(() => answerOffer(srtp, local())).toThrow(/no RTP\/AVP audio/);
  });

  it('sends media only to an address literal of the c= line\'s type, never a name (looked up per packet), a multicast group or a broadcast address', () => {
    const withConnection = (line: string, where: 'session' | 'media' = 'session'): ReturnType<typeof parseSdp> =>
      parseSdp(where === 'session' ? sippOffer.replace('c=IN IP4 127.0.0.1', line) : sippOffer.replace('a=rtpmap:8 PCMA/8000', `${line}\r\na=rtpmap:8 PCMA/8000`));
    const refused = (offer: ReturnType<typeof parseSdp>): unknown => {
      try {
        answerOffer(offer, local());
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const [line, why] of [
      ['c=IN IP4 tracker.example.com', /"tracker\.example\.com" is not an IP address/],
      ['c=IN IP6 tracker.example.com', /is not an IP address/],
      ['c=IN IP4 [', /is not an IP address/],
      ['c=IN IP4 255.255.255.255', /multicast or broadcast/],
      ['c=IN IP4 224.2.1.1/127', /multicast or broadcast/],
      ['c=IN IP6 ff02::1', /multicast or broadcast/],
    ] as const) {
      for (const where of ['session', 'media'] as const) {
        const error = refused(withConnection(line, where));
        expect(error, `${line} (${where})`).toBeInstanceOf(MediaError);
        expect(error).toMatchObject({ code: 'BAD_SDP', message: expect.stringMatching(why) });
      }
    }
    // an answer to our offer is held to the same rule
    expect(() => applyAnswer(withConnection('c=IN IP4 tracker.example.com'), local())).toThrow(/not an IP address/);
    // literals of the right type, and the RFC 2543 hold address, are taken
    expect(answerOffer(withConnection('c=IN IP6 ::1'), local()).negotiated.remote).toMatchObject({ address: '::1', rtpPort: 6000 });
    expect(answerOffer(withConnection('c=IN IP4 192.0.2.7', 'media'), local()).negotiated.remote).toMatchObject({ address: '192.0.2.7' });
    expect(answerOffer(withConnection('c=IN IP4 0.0.0.0'), local()).negotiated.remote).toBeUndefined();
    // a literal in a line of the other type is what it is (Kamailio's fix_nated_sdp writes an IPv4 source into IN IP6)
    expect(answerOffer(withConnection('c=IN IP6 127.0.0.1'), local()).negotiated.remote).toMatchObject({ address: '127.0.0.1' });
    // the hold address however written: nothing is sent (Linux sends to :: as to ::1), the stream is held
    for (const held of ['c=IN IP6 ::', 'c=IN IP6 ::0', 'c=IN IP6 0:0:0:0:0:0:0:0']) {
      const { negotiated } = answerOffer(withConnection(held), local());
      expect([negotiated.remote, negotiated.remoteDirection], held).toEqual([undefined, 'sendonly']);
    }
    // an IPv6 zone id names one of our interfaces; a mapped multicast group is still a group
    expect(refused(withConnection('c=IN IP6 fe80::1%eth0'))).toMatchObject({ code: 'BAD_SDP', message: expect.stringMatching(/not an IP address/) });
    expect(refused(withConnection('c=IN IP6 ::ffff:224.1.1.1'))).toMatchObject({ code: 'BAD_SDP', message: expect.stringMatching(/multicast/) });
  });

  it("sends nothing to this host's loopback when the call's media is on a network address (a caller aiming our RTP at a local service)", () => {
    const withConnection = (line: string): ReturnType<typeof parseSdp> => parseSdp(sippOffer.replace('c=IN IP4 127.0.0.1', line));
    for (const [ours, line] of [
      ['192.0.2.10', 'c=IN IP4 127.0.0.1'],
      ['192.0.2.10', 'c=IN IP4 127.45.6.7'],
      ['2001:db8::10', 'c=IN IP6 ::1'],
      ['2001:db8::10', 'c=IN IP6 0:0:0:0:0:0:0:1'],
      ['2001:db8::10', 'c=IN IP6 ::ffff:127.0.0.1'],
    ] as const) {
      expect(() => answerOffer(withConnection(line), local({ address: ours })), `${ours} ← ${line}`).toThrow(expect.objectContaining({ code: 'BAD_SDP', message: expect.stringMatching(/this host's loopback/) }));
      expect(() => applyAnswer(withConnection(line), local({ address: ours })), `${ours} ← ${line} (answer)`).toThrow(/this host's loopback/);
    }
    // judged by the media socket: one bound to loopback while its SDP gives another address (applier signaling-only)
    expect(answerOffer(withConnection('c=IN IP4 127.0.0.1'), local({ address: '2001:db8:5::7', bindAddress: '127.0.0.1' })).negotiated.remote).toMatchObject({ address: '127.0.0.1' });
    expect(() => answerOffer(withConnection('c=IN IP4 127.0.0.1'), local({ address: '127.0.0.1', bindAddress: '192.0.2.10' }))).toThrow(/this host's loopback/);
    // a phone whose own media is on loopback (the embedded lab, a test) talks to peers there
    expect(answerOffer(withConnection('c=IN IP4 127.0.0.1'), local()).negotiated.remote).toMatchObject({ address: '127.0.0.1' });
    expect(answerOffer(withConnection('c=IN IP6 ::1'), local({ address: '::1' })).negotiated.remote).toMatchObject({ address: '::1' });
    // and a network peer is taken as before
    expect(answerOffer(withConnection('c=IN IP4 192.0.2.7'), local({ address: '192.0.2.10' })).negotiated.remote).toMatchObject({ address: '192.0.2.7' });
  });

  it('takes no payload type above 127 (the RTP header has 7 bits for it): neither as a codec nor for digits', () => {
    const offer = (formats: string, maps: string[]): ReturnType<typeof parseSdp> =>
      parseSdp(['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio 6000 RTP/AVP ${formats}`, ...maps, ''].join('\r\n'));
    expect(() => answerOffer(offer('128', ['a=rtpmap:128 PCMU/8000']), local())).toThrow(expect.objectContaining({ code: 'NO_COMMON_CODEC' }));
    expect(() => answerOffer(offer('999', ['a=rtpmap:999 PCMU/8000']), local())).toThrow(expect.objectContaining({ code: 'NO_COMMON_CODEC' }));
    const taken = answerOffer(offer('128 8 200', ['a=rtpmap:128 PCMU/8000', 'a=rtpmap:200 telephone-event/8000']), local());
    expect(taken.negotiated).toMatchObject({ codec: 'PCMA', payloadType: 8 });
    expect(taken.negotiated.dtmfPayloadType).toBeUndefined();
    expect(formatSdp(taken.answer)).toMatch(/^m=audio 40000 RTP\/AVP 8\r$/m);
  });
});
