import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ToneSource } from './audio-frame.js';
import { MediaError } from './media-error.js';
import { MediaSession, type MediaSessionOptions } from './media-session.js';
import { RtpPortAllocator } from './rtp-port-allocator.js';
import { until } from '../../test/support/until.js';

describe('MediaSession with SRTP and SDES keys (RFC 3711, RFC 4568) over loopback', () => {
  const open: MediaSession[] = [];
  const sockets: dgram.Socket[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    for (const s of sockets.splice(0)) s.close();
  });
  const range = { min: 44000 + Math.floor(Math.random() * 200) * 10, max: 0 };
  range.max = range.min + 9;
  const allocator = new RtpPortAllocator(range);

  async function session(encryption?: MediaSessionOptions['encryption']): Promise<MediaSession> {
    const s = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200, ...(encryption ? { encryption } : {}) });
    open.push(s);
    return s;
  }

  it('required on both ends: RTP/SAVP with a=crypto, the tone, DTMF and RTCP reports cross encrypted and authenticated', async () => {
    const a = await session('required');
    const b = await session('required');
    const offer = a.createOffer();
    expect(offer).toMatch(/^m=audio \d+ RTP\/SAVP /m);
    expect(offer).toMatch(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}/m);
    const answer = b.acceptOffer(offer);
    expect(answer).toMatch(/^m=audio \d+ RTP\/SAVP /m);
    a.acceptAnswer(answer);
    a.play(new ToneSource(1000));
    const digits: string[] = [];
    b.onDigit((d) => digits.push(d.digit));
    expect(a.sendDtmf('7')).toBe(true);
    await until(() => (b.stats().packetsReceived >= 40 && a.stats().remoteReport !== undefined && digits.length === 1 ? true : undefined));
    expect(b.recent.toneShare(1000)).toBeGreaterThan(0.9);
    expect(digits).toEqual(['7']);
    expect(a.stats().encryption).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(b.stats().encryption).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(b.stats().rejected).toEqual({});
    expect(b.srtpStats()).toMatchObject({ rejected: {} });
    expect(b.srtpStats()!.receivedRtp).toBeGreaterThanOrEqual(40);
    expect(a.srtpStats()!.receivedRtcp).toBeGreaterThan(0); // b's SRTCP report reached a and checked out
  });

  it('what goes on the wire is SRTP: an 80-bit tag on every packet and no G.711 of the tone in the payload', async () => {
    const a = await session('required');
    const b = await session('required');
    const wire: Buffer[] = [];
    const sniffer = dgram.createSocket('udp4');
    sockets.push(sniffer);
    sniffer.on('message', (m) => wire.push(m));
    await new Promise<void>((resolve) => sniffer.bind(0, '127.0.0.1', resolve));
    // b sends its RTP where a's offer says: here, to the sniffer
    b.acceptOffer(a.createOffer().replace(/^m=audio \d+/m, `m=audio ${sniffer.address().port}`));
    b.play(new ToneSource(1000));
    await until(() => (wire.length >= 20 ? true : undefined));
    for (const packet of wire.slice(5, 20)) {
      expect(packet.length).toBe(12 + 160 + 10);
      // a 1000 Hz tone sampled at 8 kHz repeats every 8 samples: plain G.711 would too
      const payload = packet.subarray(12, 172);
      const periodic = [...payload.subarray(0, 152)].every((byte, i) => byte === payload[i + 8]);
      expect(periodic).toBe(false);
    }
  });

  it('required refuses a plain peer with a reason (→ 488); preferred answers a plain offer in plain RTP and says so', async () => {
    const plain = await session();
    const required = await session('required');
    expect(() => required.acceptOffer(plain.createOffer())).toThrow(MediaError);
    expect(() => required.acceptOffer(plain.createOffer())).toThrow(/media encryption is required/);
    const preferred = await session('preferred');
    const answer = preferred.acceptOffer(plain.createOffer());
    expect(answer).toMatch(/^m=audio \d+ RTP\/AVP /m);
    expect(answer).not.toMatch(/a=crypto/);
    expect(preferred.stats().encryption).toEqual({ kind: 'none' });
  });

  it('keeps the SRTP session across a hold re-INVITE with the same keys, and media resumes', async () => {
    const a = await session('required');
    const b = await session('required');
    a.acceptAnswer(b.acceptOffer(a.createOffer()));
    a.play(new ToneSource(1000));
    await until(() => (b.stats().packetsReceived >= 10 ? true : undefined));
    const hold = a.createOffer(true);
    a.acceptAnswer(b.acceptOffer(hold));
    a.acceptAnswer(b.acceptOffer(a.createOffer(false)));
    const before = b.stats().packetsReceived;
    await until(() => (b.stats().packetsReceived >= before + 10 ? true : undefined));
    expect(b.stats().rejected).toEqual({});
  });
});
