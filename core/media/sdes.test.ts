import { describe, expect, it } from 'vitest';
import { MediaError } from './media-error.js';
import { acceptCryptoAnswer, answerCrypto, createCryptoOffer, formatCrypto, parseCrypto, redactCryptoKeys, SdesError, type SdesErrorReason } from './sdes.js';
import { answerOffer, applyAnswer, buildOffer, type LocalAudio } from './sdp-negotiation.js';
import { formatSdp, parseSdp } from './sdp.js';
import { SrtpSession } from './srtp-session.js';
import { serializeRtp } from './rtp-packet.js';

// RFC 4568 §4's example key (30 bytes: 16 of key, 14 of salt)
const rfcInline = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';

function reasonOf(run: () => unknown): SdesErrorReason | string {
  try {
    run();
  } catch (error) {
    if (error instanceof SdesError) return error.reason;
    if (error instanceof MediaError) return error.code;
    throw error;
  }
  throw new Error('no error');
}

describe('SDES a=crypto (RFC 4568)', () => {
  it('parses the RFC 4568 §4 example with lifetime 2^20 and MKI 1:4, and writes it back the same', () => {
    const value = `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|2^20|1:4`;
    const crypto = parseCrypto(value);
    expect(crypto).toMatchObject({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', params: [], key: { lifetime: 2 ** 20, mki: { value: 1, length: 4 } } });
    expect(Buffer.concat([crypto.key.key, crypto.key.salt]).toString('base64')).toBe(rfcInline);
    expect(crypto.key.key).toHaveLength(16);
    expect(formatCrypto(crypto)).toBe(value);
    expect(parseCrypto(`2 AES_CM_128_HMAC_SHA1_32 inline:${rfcInline}|1048576 KDR=0 WSH=128`)).toMatchObject({ tag: 2, key: { lifetime: 1048576 }, params: ['KDR=0', 'WSH=128'] });
    expect(parseCrypto(`7  AES_CM_128_HMAC_SHA1_32\tINLINE:${rfcInline}`).tag).toBe(7);
  });

  it.each([
    ['an unknown suite', `1 F8_128_HMAC_SHA1_80 inline:${rfcInline}`, 'UNKNOWN_SUITE'],
    ['AES-256', `1 AES_256_CM_HMAC_SHA1_80 inline:${rfcInline}`, 'UNKNOWN_SUITE'],
    ['a short key', '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhc', 'BAD_KEY_LENGTH'],
    ['a long key', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}AAAA`, 'BAD_KEY_LENGTH'],
    ['base64 with a bad character', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline.slice(0, 10)}!${rfcInline.slice(11)}`, 'BAD_BASE64'],
    ['base64 cut short', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline.slice(0, 39)}`, 'BAD_BASE64'],
    ['a lifetime of 2^49', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|2^49`, 'BAD_LIFETIME'],
    ['a lifetime of 0', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|0`, 'BAD_LIFETIME'],
    ['an MKI longer than 128 bytes', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|1:129`, 'BAD_MKI'],
    ['an MKI value too large for its length', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|256:1`, 'BAD_MKI'],
    ['two keys', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|2^20|1:4;inline:${rfcInline}|2^20|2:4`, 'MULTIPLE_KEYS'],
    ['a key derivation rate', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline} KDR=1`, 'UNSUPPORTED_PARAMETER'],
    ['unencrypted SRTP', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline} UNENCRYPTED_SRTP`, 'UNSUPPORTED_PARAMETER'],
    ['no tag', `AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}`, 'MALFORMED'],
    ['another key method', '1 AES_CM_128_HMAC_SHA1_80 uri:https://example.invalid/key', 'MALFORMED'],
    ['the MKI before the lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|1:4|2^20`, 'MALFORMED'],
  ])('refuses %s with a typed reason', (_name, value, reason) => {
    expect(reasonOf(() => parseCrypto(value))).toBe(reason);
  });

  it('offers both suites with fresh CSPRNG keys, _80 first, and never the same key twice', () => {
    const offer = createCryptoOffer();
    expect(offer.map((c) => [c.tag, c.suite])).toEqual([
      [1, 'AES_CM_128_HMAC_SHA1_80'],
      [2, 'AES_CM_128_HMAC_SHA1_32'],
    ]);
    const again = createCryptoOffer();
    const keys = [...offer, ...again].map((c) => Buffer.concat([c.key.key, c.key.salt]).toString('hex'));
    expect(new Set(keys).size).toBe(4);
    for (const c of offer) expect(parseCrypto(formatCrypto(c))).toEqual({ ...c, key: { key: Buffer.from(c.key.key), salt: Buffer.from(c.key.salt) } });
  });

  it('answers the first supported line with its tag and suite and a fresh key of our own', () => {
    const offered = [`1 AES_256_CM_HMAC_SHA1_80 inline:${rfcInline}${rfcInline}`, `2 AES_CM_128_HMAC_SHA1_32 inline:${rfcInline}`, `3 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}`];
    const { answer, agreement } = answerCrypto(offered);
    expect(answer).toMatchObject({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32' });
    expect(agreement.remote.key.toString('base64')).toBe(Buffer.from(rfcInline, 'base64').subarray(0, 16).toString('base64'));
    expect(agreement.local).toBe(answer.key);
    expect(agreement.local.key.equals(agreement.remote.key)).toBe(false);
  });

  it('says why no line is usable: one line gives its own reason, several list every message', () => {
    expect(reasonOf(() => answerCrypto(['1 AES_CM_128_HMAC_SHA1_80 inline:@@@@']))).toBe('BAD_BASE64');
    try {
      answerCrypto([`1 NULL_SUITE inline:${rfcInline}`, '2 AES_CM_128_HMAC_SHA1_80 inline:AAAA']);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(SdesError);
      expect((error as SdesError).code).toBe('BAD_CRYPTO');
      expect((error as SdesError).message).toMatch(/^no usable a=crypto: tag 1: .*NULL_SUITE.*; tag 2: .*not 3$/);
    }
  });

  it('takes an answer only for a tag we offered, with the same suite', () => {
    const offer = createCryptoOffer();
    const answerLine = (tag: number, suite: string): string => `${tag} ${suite} inline:${rfcInline}`;
    const agreement = acceptCryptoAnswer(offer, [answerLine(2, 'AES_CM_128_HMAC_SHA1_32')]);
    expect(agreement).toMatchObject({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32' });
    expect(agreement.local).toBe(offer[1]!.key);
    expect(reasonOf(() => acceptCryptoAnswer(offer, [answerLine(3, 'AES_CM_128_HMAC_SHA1_80')]))).toBe('ANSWER_MISMATCH');
    expect(reasonOf(() => acceptCryptoAnswer(offer, [answerLine(1, 'AES_CM_128_HMAC_SHA1_32')]))).toBe('ANSWER_MISMATCH');
    expect(reasonOf(() => acceptCryptoAnswer(offer, []))).toBe('NO_COMMON_CRYPTO');
  });

  it('redacts every inline key of an SDP body, and nothing else', () => {
    const sdp = `v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}|2^20|1:4\r\nA=CRYPTO:2 AES_CM_128_HMAC_SHA1_32 inline:${rfcInline}\r\na=ptime:20\r\n`;
    const redacted = redactCryptoKeys(sdp);
    expect(redacted).not.toContain(rfcInline);
    expect(redacted).toContain('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|2^20|1:4\r\n');
    expect(redacted).toContain('A=CRYPTO:2 AES_CM_128_HMAC_SHA1_32 inline:[redacted]\r\n');
    expect(redacted).toContain('a=ptime:20\r\n');
  });
});

describe('Offer/answer with SDES (RFC 4568 §7, RTP/SAVP)', () => {
  const local = (over: Partial<LocalAudio> = {}): LocalAudio => ({ address: '127.0.0.1', rtpPort: 40000, codecs: ['PCMU', 'PCMA'], direction: 'sendrecv', sessionId: '42', version: 1, ...over });
  const plainOffer = (): string => formatSdp(buildOffer(local({ rtpPort: 6000 })));

  it('two phones agree on _80 over RTP/SAVP, each sending with its own key, and the keys work for SRTP', () => {
    const offerKeys = createCryptoOffer();
    const caller = local({ srtp: { policy: 'required', offer: offerKeys } });
    const offerSdp = formatSdp(buildOffer(caller));
    expect(offerSdp).toContain('m=audio 40000 RTP/SAVP 0 8 101\r\n');
    expect(offerSdp).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:/);
    const { answer, negotiated: calleeSide } = answerOffer(parseSdp(offerSdp), local({ rtpPort: 50000, srtp: { policy: 'required' } }));
    const answerSdp = formatSdp(answer);
    expect(answerSdp).toContain('m=audio 50000 RTP/SAVP 0 101\r\n');
    expect(answerSdp.match(/a=crypto:/g)).toHaveLength(1);
    expect(answerSdp).toContain('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:');
    const callerSide = applyAnswer(parseSdp(answerSdp), caller);
    expect(callerSide.srtp).toMatchObject({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(callerSide.srtp!.local.key.equals(calleeSide.srtp!.remote.key)).toBe(true);
    expect(callerSide.srtp!.remote.salt.equals(calleeSide.srtp!.local.salt)).toBe(true);
    const a = new SrtpSession({ suite: callerSide.srtp!.suite, local: callerSide.srtp!.local, remote: callerSide.srtp!.remote });
    const b = new SrtpSession({ suite: calleeSide.srtp!.suite, local: calleeSide.srtp!.local, remote: calleeSide.srtp!.remote });
    const rtp = serializeRtp({ marker: false, payloadType: 0, sequence: 1, timestamp: 0, ssrc: 9, payload: Buffer.alloc(160, 1) });
    expect(b.unprotectRtp(a.protectRtp(rtp))).toMatchObject({ ok: true, packet: rtp });
    expect(a.unprotectRtp(b.protectRtp(rtp))).toMatchObject({ ok: true, packet: rtp });
  });

  it('refuses a plain offer when encryption is required (488) and takes it plainly when preferred', () => {
    expect(reasonOf(() => answerOffer(parseSdp(plainOffer()), local({ srtp: { policy: 'required' } })))).toBe('NO_COMMON_CRYPTO');
    const { answer, negotiated } = answerOffer(parseSdp(plainOffer()), local({ srtp: { policy: 'preferred' } }));
    expect(negotiated.srtp).toBeUndefined();
    expect(formatSdp(answer)).toContain('m=audio 40000 RTP/AVP 0 101\r\n');
    expect(formatSdp(answer)).not.toContain('a=crypto');
  });

  it('answers a bad a=crypto with the reason the phone puts in its 488', () => {
    const offer = plainOffer().replace('RTP/AVP', 'RTP/SAVP').replace('a=ptime:20\r\n', 'a=ptime:20\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:bad!base64\r\n');
    const error = (() => {
      try {
        answerOffer(parseSdp(offer), local({ srtp: { policy: 'preferred' } }));
      } catch (e) {
        return e as SdesError;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(SdesError);
    expect(error.reason).toBe('BAD_BASE64');
    expect(error.message).toMatch(/not base64/);
    expect(reasonOf(() => answerOffer(parseSdp(offer.replace(/a=crypto.*\r\n/, '')), local({ srtp: { policy: 'required' } })))).toBe('NO_COMMON_CRYPTO');
  });

  it('without SRTP settings, an RTP/SAVP-only offer is refused and crypto on RTP/AVP is ignored', () => {
    const savp = plainOffer().replace('RTP/AVP', 'RTP/SAVP').replace('a=ptime:20\r\n', `a=ptime:20\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${rfcInline}\r\n`);
    expect(reasonOf(() => answerOffer(parseSdp(savp), local()))).toBe('NO_COMMON_CRYPTO');
    const bestEffort = savp.replace('RTP/SAVP', 'RTP/AVP');
    const { answer, negotiated } = answerOffer(parseSdp(bestEffort), local());
    expect(negotiated.srtp).toBeUndefined();
    expect(formatSdp(answer)).not.toContain('a=crypto');
    // with SRTP allowed, the same "best effort" offer (crypto on RTP/AVP) is answered encrypted, on RTP/AVP
    const encrypted = answerOffer(parseSdp(bestEffort), local({ srtp: { policy: 'preferred' } }));
    expect(encrypted.negotiated.srtp?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(formatSdp(encrypted.answer)).toMatch(/m=audio 40000 RTP\/AVP 0 101\r\n[\s\S]*a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
  });

  it('our offer: a plain answer fails when required, is plain RTP when preferred', () => {
    const plainAnswer = formatSdp(answerOffer(parseSdp(plainOffer()), local({ rtpPort: 7000 })).answer);
    const offer = createCryptoOffer();
    expect(reasonOf(() => applyAnswer(parseSdp(plainAnswer), local({ srtp: { policy: 'required', offer } })))).toBe('NO_COMMON_CRYPTO');
    expect(applyAnswer(parseSdp(plainAnswer), local({ srtp: { policy: 'preferred', offer } })).srtp).toBeUndefined();
    expect(() => buildOffer(local({ srtp: { policy: 'required' } }))).toThrow(/needs keys/);
  });
});
