import { describe, expect, it } from 'vitest';
import { parseRtp, RtpParseError, serializeRtp } from './rtp-packet.js';

describe('RTP packets', () => {
  it('round-trips a packet', () => {
    const packet = { marker: true, payloadType: 0, sequence: 65535, timestamp: 4294967295, ssrc: 0xdeadbeef, payload: Uint8Array.from([1, 2, 3]) };
    const parsed = parseRtp(serializeRtp(packet));
    expect({ ...parsed, payload: [...parsed.payload] }).toEqual({ ...packet, payload: [1, 2, 3] });
  });

  it('skips CSRCs and header extensions and strips padding', () => {
    const data = Buffer.from([0xb1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 1, 1, 1, 0xbe, 0xde, 0, 1, 9, 9, 9, 9, 0x42, 0x43, 0, 2]);
    expect([...parseRtp(data).payload]).toEqual([0x42, 0x43]);
  });

  it.each([
    ['truncated header', Buffer.alloc(11, 0x80), 'TRUNCATED'],
    ['version 1', Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'BAD_VERSION'],
    ['CSRC count past the end', Buffer.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'TRUNCATED'],
    ['extension past the end', Buffer.from([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 9]), 'BAD_EXTENSION'],
    ['padding larger than the payload', Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 200]), 'BAD_PADDING'],
    ['an RTCP sender report', Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]), 'RTCP_ON_RTP_PORT'],
  ])('rejects %s', (_name, data, reason) => {
    expect(() => parseRtp(data)).toThrow(RtpParseError);
    try {
      parseRtp(data);
    } catch (error) {
      expect((error as RtpParseError).reason).toBe(reason);
    }
  });

  it('never throws anything but RtpParseError on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const data = Buffer.from(Array.from({ length: Math.floor(Math.random() * 40) }, () => Math.floor(Math.random() * 256)));
      try {
        parseRtp(data);
      } catch (error) {
        expect(error).toBeInstanceOf(RtpParseError);
      }
    }
  });
});
