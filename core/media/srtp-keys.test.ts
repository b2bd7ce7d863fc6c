import { describe, expect, it } from 'vitest';
import { aesCmKeystream, AesCmCipher, deriveSrtpKeys } from './srtp-keys.js';
import { SrtpError } from './srtp-error.js';
import { srtpSuite } from './srtp-suite.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('SRTP keys (RFC 3711 Appendix B)', () => {
  // RFC 3711 B.2: AES-CM keystream for session key 2B7E…, salt F0F1…FD, SSRC 0, index 0.
  const sessionKey = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const blocks: Array<[number, string]> = [
    [0x0000, 'E03EAD0935C95E80E166B16DD92B4EB4'],
    [0x0001, 'D23513162B02D0F72A43A2FE4A5F97AB'],
    [0x0002, '41E95B3BB0A2E8DD477901E4FCA894C0'],
    [0xfeff, 'EC8CDF7398607CB0F2D21675EA9EA1E4'],
    [0xff00, '362B7C3C6773516318A077D7FC5073AE'],
    [0xff01, '6A2CC3787889374FBEB4C81B17BA6C44'],
  ];

  it('B.2: AES-CM keystream from IV F0F1…FD0000', () => {
    const keystream = aesCmKeystream(sessionKey, hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'), 16 * 0xff02);
    for (const [block, expected] of blocks) expect(keystream.subarray(block * 16, block * 16 + 16).toString('hex')).toBe(expected.toLowerCase());
  });

  it('B.2: the packet cipher (reused ECB, counter blocks written per packet) gives the same keystream', () => {
    const cipher = new AesCmCipher(sessionKey, hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'));
    const data = Buffer.alloc(16 * 0xff02);
    cipher.apply(0, 0, data, 0, data.length);
    for (const [block, expected] of blocks) expect(data.subarray(block * 16, block * 16 + 16).toString('hex')).toBe(expected.toLowerCase());
    // a second packet through the same cipher object: the key schedule is reused, the counters start again
    const short = Buffer.alloc(20);
    cipher.apply(0, 0, short, 2, 20);
    expect(short.subarray(2, 18).toString('hex')).toBe(blocks[0]![1].toLowerCase());
  });

  it('the keystream made ahead for 32 packets is, packet by packet, the one made for each packet alone', () => {
    const salt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
    const ahead = new AesCmCipher(sessionKey, salt, 32, 2);
    const alone = new AesCmCipher(sessionKey, salt);
    // in order across the ROC step, a reordered one, a loss jump, a longer payload, a second and third source
    const steps: [ssrc: number, index: number, length: number][] = [];
    for (let i = 0xfff0; i < 0x10030; i++) steps.push([0xcafebabe, i, 160]);
    steps.push([0xcafebabe, 0x10010, 160], [0xcafebabe, 0x10031, 160], [0xcafebabe, 0x10100, 160], [0xcafebabe, 0x10101, 400], [0xcafebabe, 0x10102, 160]);
    steps.push([7, 0, 33], [7, 1, 33], [0xcafebabe, 0x10103, 160], [8, 5, 16], [0xcafebabe, 0x10104, 1], [7, 2, 33]);
    for (const [ssrc, index, length] of steps) {
      const a = Buffer.alloc(length + 12, 0x5a);
      const b = Buffer.from(a);
      ahead.apply(ssrc, index, a, 12, a.length);
      alone.apply(ssrc, index, b, 12, b.length);
      expect(a.toString('hex'), `SSRC ${ssrc} index ${index}`).toBe(b.toString('hex'));
    }
  });

  it('B.3: session keys from master key E1F9… and master salt 0EC6… (key derivation rate 0)', () => {
    const keys = deriveSrtpKeys(srtpSuite('AES_CM_128_HMAC_SHA1_80'), { key: hex('E1F97A0D3E018BE0D64FA32C06DE4139'), salt: hex('0EC675AD498AFEEBB6960B3AABE6') });
    expect(keys.rtp.encryptionKey.toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(keys.rtp.salt.toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(keys.rtp.authenticationKey.toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
    // the RTCP labels (3, 4, 5) give different keys of the same sizes
    expect(keys.rtcp.encryptionKey).toHaveLength(16);
    expect(keys.rtcp.encryptionKey.equals(keys.rtp.encryptionKey)).toBe(false);
    expect(keys.rtcp.authenticationKey).toHaveLength(20);
    expect(keys.rtcp.salt).toHaveLength(14);
  });

  it('refuses a master key or salt of the wrong length', () => {
    const suite = srtpSuite('AES_CM_128_HMAC_SHA1_32');
    expect(() => deriveSrtpKeys(suite, { key: Buffer.alloc(15), salt: Buffer.alloc(14) })).toThrow(SrtpError);
    expect(() => deriveSrtpKeys(suite, { key: Buffer.alloc(16), salt: Buffer.alloc(16) })).toThrow(/14-byte master salt/);
  });
});
