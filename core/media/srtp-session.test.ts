import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRtp, serializeRtp } from './rtp-packet.js';
import { SrtpError } from './srtp-error.js';
import { SrtpSession, type SrtpSessionOptions, type SrtpUnprotectResult } from './srtp-session.js';
import { srtpSuiteNames, type SrtpMasterKey, type SrtpSuiteName } from './srtp-suite.js';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const rfcKey: SrtpMasterKey = { key: hex('e1f97a0d3e018be0d64fa32c06de4139'), salt: hex('0ec675ad498afeebb6960b3aabe6') };
const ssrc = 0xcafebabe;

function rtp(sequence: number, payload: Uint8Array = Buffer.alloc(160, sequence & 0xff), source = ssrc): Buffer {
  return serializeRtp({ marker: false, payloadType: 0, sequence: sequence & 0xffff, timestamp: sequence * 160, ssrc: source, payload });
}

const rtcp = (source = ssrc): Buffer => Buffer.concat([hex('80c90001'), Buffer.from([source >>> 24, (source >>> 16) & 0xff, (source >>> 8) & 0xff, source & 0xff]), Buffer.alloc(24, 7)]);

/** Two ends of one call: A's local key is B's remote key and the other way round. */
function pair(suite: SrtpSuiteName, options: Partial<SrtpSessionOptions> = {}): { a: SrtpSession; b: SrtpSession } {
  const keyA = { key: randomBytes(16), salt: randomBytes(14) };
  const keyB = { key: randomBytes(16), salt: randomBytes(14) };
  return {
    a: new SrtpSession({ suite, local: keyA, remote: keyB, ...options }),
    b: new SrtpSession({ suite, local: keyB, remote: keyA, ...options }),
  };
}

function refused(result: SrtpUnprotectResult): string {
  if (result.ok) throw new Error('the packet was accepted');
  expect(result.error).toBeInstanceOf(SrtpError);
  return result.error.code;
}

function accepted(result: SrtpUnprotectResult): Buffer {
  if (!result.ok) throw new Error(`refused: ${result.error.code} ${result.error.message}`);
  return result.packet;
}

describe('SRTP known answers from libsrtp 2.5 (RFC 3711 B.3 master key, SSRC cafebabe, sequence 0x1234)', () => {
  // Produced by Debian's libsrtp2 through pylibsrtp; test/interop/srtp-libsrtp.test.ts checks many more live.
  const plainRtp = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
  const plainRtcp = hex('81c8000ccafebabe' + 'ab'.repeat(16));
  const rtcpOut = '81c8000ccafebabe7128035be487b9bdbef89041f977a5a88000000184c625ee906e0a5b4bd2';
  it.each([
    ['AES_CM_128_HMAC_SHA1_80', '800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb'],
    ['AES_CM_128_HMAC_SHA1_32', '800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc'],
  ] as const)('%s: SRTP and SRTCP (first index 1, 80-bit tag) byte for byte', (suite, rtpOut) => {
    const session = new SrtpSession({ suite, local: rfcKey, remote: rfcKey, firstSrtcpIndex: 1 });
    expect(session.protectRtp(plainRtp).toString('hex')).toBe(rtpOut);
    expect(session.protectRtcp(plainRtcp).toString('hex')).toBe(rtcpOut);
    expect(accepted(session.unprotectRtp(hex(rtpOut)))).toEqual(plainRtp);
    expect(accepted(session.unprotectRtcp(hex(rtcpOut)))).toEqual(plainRtcp);
  });
});

describe.each(srtpSuiteNames)('SRTP session with %s', (suite) => {
  const tagLength = suite === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4;

  it('protects and unprotects RTP and RTCP both ways; the payload on the wire is not the payload sent', () => {
    const { a, b } = pair(suite);
    const payload = Buffer.alloc(160, 0x55);
    const packet = rtp(1000, payload);
    const wire = a.protectRtp(packet);
    expect(wire).toHaveLength(packet.length + tagLength);
    expect(wire.subarray(0, 12)).toEqual(packet.subarray(0, 12)); // the header stays readable (RFC 3711 §3.1)
    expect(wire.subarray(12, 172).equals(payload)).toBe(false);
    const back = accepted(b.unprotectRtp(wire));
    expect(Buffer.from(parseRtp(back).payload)).toEqual(payload);
    const report = rtcp();
    const srtcp = b.protectRtcp(report);
    expect(srtcp).toHaveLength(report.length + 4 + 10);
    expect(srtcp.readUInt32BE(report.length)).toBe(0x80000000); // E set, index 0 (RFC 3711 §3.4)
    expect(accepted(a.unprotectRtcp(srtcp))).toEqual(report);
    expect(a.stats()).toMatchObject({ sentRtp: 1, receivedRtcp: 1, rejected: {} });
    expect(b.stats()).toMatchObject({ receivedRtp: 1, sentRtcp: 1, rejected: {} });
  });

  it('keeps the rollover counter across 65535 → 0 on both ends, with reordering around the wrap', () => {
    const { a, b } = pair(suite);
    const order = [65530, 65531, 65533, 65532, 65535, 0, 1, 65534, 2, 3];
    const wire = order.map((seq) => a.protectRtp(rtp(seq)));
    expect(a.rolloverCounter('send', ssrc)).toBe(1);
    for (const [i, packet] of wire.entries()) expect(parseRtp(accepted(b.unprotectRtp(packet))).sequence).toBe(order[i]);
    expect(b.rolloverCounter('receive', ssrc)).toBe(1);
  });

  it('a receiver that misses the wrap cannot authenticate (the ROC is in the tag, RFC 3711 §4.2)', () => {
    const key = { key: randomBytes(16), salt: randomBytes(14) };
    const sender = new SrtpSession({ suite, local: key, remote: key });
    const receiver = new SrtpSession({ suite, local: key, remote: key });
    for (let seq = 65000; seq <= 65535; seq++) sender.protectRtp(rtp(seq));
    const afterWrap = sender.protectRtp(rtp(65536 + 5)); // ROC 1, sequence 5
    expect(refused(receiver.unprotectRtp(afterWrap))).toBe('AUTH_FAILED'); // its first packet: it assumes ROC 0
  });

  it('refuses a packet with any byte changed as AUTH_FAILED, and passes nothing on', () => {
    const { a, b } = pair(suite);
    const wire = a.protectRtp(rtp(7));
    for (const at of [1, 2, 8, 12, 100, wire.length - tagLength - 1, wire.length - 1]) {
      const tampered = Buffer.from(wire);
      tampered[at]! ^= 0x01;
      expect(refused(b.unprotectRtp(tampered)), `byte ${at}`).toBe('AUTH_FAILED');
      expect(tampered[20]).toBe(wire[20]); // not decrypted in place
    }
    expect(accepted(b.unprotectRtp(Buffer.from(wire)))).toEqual(rtp(7)); // the genuine one still goes through
    expect(b.stats().rejected).toEqual({ AUTH_FAILED: 7 });
  });

  it('refuses a packet under another key, and SRTCP with a flipped E flag', () => {
    const { a } = pair(suite);
    const { b: stranger } = pair(suite);
    expect(refused(stranger.unprotectRtp(a.protectRtp(rtp(1))))).toBe('AUTH_FAILED');
    const { a: x, b: y } = pair(suite);
    const srtcp = x.protectRtcp(rtcp());
    srtcp[srtcp.length - 14]! ^= 0x80;
    expect(refused(y.unprotectRtcp(srtcp))).toBe('AUTH_FAILED');
  });

  it('refuses replays (RTP and RTCP) as REPLAYED and indices behind the window as TOO_OLD', () => {
    const { a, b } = pair(suite, { replayWindow: 64 });
    const packets = Array.from({ length: 100 }, (_, i) => a.protectRtp(rtp(i)));
    const first = Buffer.from(packets[0]!);
    const tenth = Buffer.from(packets[10]!);
    for (const p of packets.slice(0, 99)) accepted(b.unprotectRtp(Buffer.from(p)));
    expect(refused(b.unprotectRtp(Buffer.from(packets[98]!)))).toBe('REPLAYED');
    expect(refused(b.unprotectRtp(first))).toBe('TOO_OLD');
    expect(refused(b.unprotectRtp(tenth))).toBe('TOO_OLD');
    accepted(b.unprotectRtp(Buffer.from(packets[99]!)));
    const srtcp = a.protectRtcp(rtcp());
    accepted(b.unprotectRtcp(Buffer.from(srtcp)));
    expect(refused(b.unprotectRtcp(Buffer.from(srtcp)))).toBe('REPLAYED');
    expect(b.stats().rejected).toEqual({ REPLAYED: 2, TOO_OLD: 2 });
  });

  it('a forged packet far ahead does not move the window (it is checked before it counts)', () => {
    const { a, b } = pair(suite);
    accepted(b.unprotectRtp(a.protectRtp(rtp(10))));
    const next = a.protectRtp(rtp(11));
    const forged = a.protectRtp(rtp(30000)); // had it counted, 11 would now be far behind the window
    forged[forged.length - 1]! ^= 0xff;
    expect(refused(b.unprotectRtp(forged))).toBe('AUTH_FAILED');
    accepted(b.unprotectRtp(next));
    expect(b.rolloverCounter('receive', ssrc)).toBe(0);
  });

  it('refuses truncated and malformed packets with a reason, never by throwing', () => {
    const { a, b } = pair(suite);
    const wire = a.protectRtp(rtp(1));
    expect(refused(b.unprotectRtp(wire.subarray(0, 11 + tagLength)))).toBe('TOO_SHORT');
    expect(refused(b.unprotectRtp(Buffer.alloc(0)))).toBe('TOO_SHORT');
    const badVersion = Buffer.from(wire);
    badVersion[0] = 0x40;
    expect(refused(b.unprotectRtp(badVersion))).toBe('BAD_HEADER');
    const csrcPastEnd = Buffer.from(wire.subarray(0, 12 + tagLength + 8));
    csrcPastEnd[0] = 0x8f; // 15 CSRCs in a 30-byte packet
    expect(refused(b.unprotectRtp(csrcPastEnd))).toBe('BAD_HEADER');
    expect(refused(b.unprotectRtcp(a.protectRtcp(rtcp()).subarray(0, 21)))).toBe('TOO_SHORT');
    expect(b.stats().rejected).toEqual({ TOO_SHORT: 3, BAD_HEADER: 2 });
  });

  it('survives random bytes: every one refused with an SrtpError', () => {
    const { b } = pair(suite);
    for (let i = 0; i < 3000; i++) {
      const junk = randomBytes(Math.floor(Math.random() * 80));
      if (junk.length > 0 && i % 2 === 0) junk[0] = 0x80; // half of them look like RTP version 2
      expect(b.unprotectRtp(junk).ok).toBe(false);
      expect(b.unprotectRtcp(randomBytes(Math.floor(Math.random() * 80))).ok).toBe(false);
    }
  });

  it('encrypts past CSRCs and a header extension, and keeps padding inside the encrypted part (RFC 3711 §3.1)', () => {
    const { a, b } = pair(suite);
    // V=2, P=1, X=1, CC=1; one CSRC; extension 0xBEDE of one word; payload 5 bytes + 3 bytes padding
    const packet = hex('b1001234000000a0cafebabe' + '11111111' + 'bede0001' + '22222222' + '0102030405' + '000003');
    const wire = a.protectRtp(packet);
    expect(wire.subarray(0, 24)).toEqual(packet.subarray(0, 24));
    expect(wire.subarray(24, 32).equals(packet.subarray(24))).toBe(false);
    const back = accepted(b.unprotectRtp(wire));
    expect(back).toEqual(packet);
    expect([...parseRtp(back).payload]).toEqual([1, 2, 3, 4, 5]);
  });

  it('handles several sources and refuses more than maxStreams of them, both ways', () => {
    const key = { key: randomBytes(16), salt: randomBytes(14) };
    const a = new SrtpSession({ suite, local: key, remote: key, maxStreams: 2 });
    const wide = new SrtpSession({ suite, local: key, remote: key, maxStreams: 3 });
    const b = new SrtpSession({ suite, local: key, remote: key, maxStreams: 2 });
    accepted(b.unprotectRtp(a.protectRtp(rtp(1, undefined, 1))));
    accepted(b.unprotectRtp(a.protectRtp(rtp(1, undefined, 2))));
    expect(() => a.protectRtp(rtp(1, undefined, 3))).toThrow(expect.objectContaining({ code: 'TOO_MANY_STREAMS' }));
    expect(refused(b.unprotectRtp(wide.protectRtp(rtp(1, undefined, 3))))).toBe('TOO_MANY_STREAMS');
    accepted(b.unprotectRtp(a.protectRtp(rtp(2, undefined, 1))));
    expect(b.stats()).toMatchObject({ receivedRtp: 3, rejected: { TOO_MANY_STREAMS: 1 } });
  });

  it('a sender refuses to protect the same index twice (keystream reuse, RFC 3711 §9.1)', () => {
    const { a } = pair(suite);
    a.protectRtp(rtp(5));
    expect(() => a.protectRtp(rtp(5))).toThrow(expect.objectContaining({ code: 'INDEX_REUSED' }));
    a.protectRtp(rtp(4)); // an earlier index not yet used is fine
  });

  it('stops at the key lifetime for SRTP and SRTCP together (RFC 4568 §6.1)', () => {
    const keyA = { key: randomBytes(16), salt: randomBytes(14), lifetime: 3 };
    const keyB = { key: randomBytes(16), salt: randomBytes(14), lifetime: 2 };
    const a = new SrtpSession({ suite, local: keyA, remote: keyB });
    const b = new SrtpSession({ suite, local: keyB, remote: keyA });
    a.protectRtp(rtp(1));
    a.protectRtcp(rtcp());
    const third = a.protectRtp(rtp(2));
    expect(() => a.protectRtp(rtp(3))).toThrow(expect.objectContaining({ code: 'KEY_EXHAUSTED' }));
    const fromB = [b.protectRtp(rtp(1)), b.protectRtp(rtp(2))];
    expect(() => b.protectRtcp(rtcp())).toThrow(expect.objectContaining({ code: 'KEY_EXHAUSTED' }));
    for (const p of fromB) accepted(a.unprotectRtp(p));
    accepted(b.unprotectRtp(third));
  });

  it('carries an MKI between payload and tag, and refuses a packet naming another key as BAD_MKI', () => {
    const key = { key: randomBytes(16), salt: randomBytes(14), mki: { value: 258, length: 2 } };
    const a = new SrtpSession({ suite, local: key, remote: key });
    const packet = rtp(9);
    const wire = a.protectRtp(packet);
    expect(wire).toHaveLength(packet.length + 2 + tagLength);
    expect(wire.readUInt16BE(packet.length)).toBe(258);
    const b = new SrtpSession({ suite, local: key, remote: key });
    const otherMki = Buffer.from(wire);
    otherMki.writeUInt16BE(259, packet.length);
    expect(refused(b.unprotectRtp(otherMki))).toBe('BAD_MKI');
    expect(accepted(b.unprotectRtp(wire))).toEqual(packet);
    const srtcp = a.protectRtcp(rtcp());
    expect(srtcp.readUInt16BE(rtcp().length + 4)).toBe(258);
    expect(accepted(b.unprotectRtcp(srtcp))).toEqual(rtcp());
  });

  it('protects in place, in a packet built with room for the MKI and tag, to the same bytes as a copy would', () => {
    const key = { key: randomBytes(16), salt: randomBytes(14), mki: { value: 7, length: 1 } };
    const copying = new SrtpSession({ suite, local: key, remote: key });
    const inPlace = new SrtpSession({ suite, local: key, remote: key });
    expect(inPlace.rtpTrailerLength).toBe(1 + tagLength);
    for (const sequence of [1, 2, 3]) {
      const payload = Buffer.alloc(160, sequence);
      const built = serializeRtp({ marker: false, payloadType: 0, sequence, timestamp: sequence * 160, ssrc, payload }, inPlace.rtpTrailerLength);
      const wire = inPlace.protectRtpInPlace(built, 12 + payload.length);
      expect(wire.buffer).toBe(built.buffer); // no copy
      expect(wire).toEqual(copying.protectRtp(rtp(sequence, payload)));
      expect(accepted(new SrtpSession({ suite, local: key, remote: key }).unprotectRtp(Buffer.from(wire)))).toEqual(rtp(sequence, payload));
    }
    // a buffer without the room is refused before anything is written (and the index is not used up)
    const short = rtp(4);
    expect(() => inPlace.protectRtpInPlace(short, short.length)).toThrow(RangeError);
    expect(short).toEqual(rtp(4));
    expect(inPlace.protectRtp(rtp(4))).toEqual(copying.protectRtp(rtp(4)));
  });

  it('reads SRTCP sent unencrypted (E = 0) but authenticated, and refuses it once tampered', () => {
    const keyA = { key: randomBytes(16), salt: randomBytes(14) };
    const keyB = { key: randomBytes(16), salt: randomBytes(14) };
    const a = new SrtpSession({ suite, local: keyA, remote: keyB, encryptRtcp: false });
    const b = new SrtpSession({ suite, local: keyB, remote: keyA });
    const report = rtcp();
    const srtcp = a.protectRtcp(report);
    expect(srtcp.subarray(0, report.length)).toEqual(report);
    expect(srtcp.readUInt32BE(report.length)).toBe(0); // E clear, index 0
    const tampered = Buffer.from(srtcp);
    tampered[10]! ^= 1;
    expect(refused(b.unprotectRtcp(tampered))).toBe('AUTH_FAILED');
    expect(accepted(b.unprotectRtcp(srtcp))).toEqual(report);
  });

  it('numbers SRTCP from 0 per source and refuses a bad first index', () => {
    const { a } = pair(suite);
    expect(a.protectRtcp(rtcp()).readUInt32BE(32) & 0x7fffffff).toBe(0);
    expect(a.protectRtcp(rtcp()).readUInt32BE(32) & 0x7fffffff).toBe(1);
    expect(a.protectRtcp(rtcp(7)).readUInt32BE(32) & 0x7fffffff).toBe(0);
    expect(() => pair(suite, { firstSrtcpIndex: 2 ** 31 })).toThrow(RangeError);
  });
});
