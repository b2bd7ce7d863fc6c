import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256Key, hmacKey } from './hmac-sha256.js';

describe('HMAC-SHA256 with precomputed pads (RFC 2104 §4)', () => {
  // RFC 4231 §4: test cases whose data is text (our inputs are strings), and the 131-byte keys that get hashed first.
  const vectors: Array<{ name: string; key: Buffer; data: string; mac: string; length?: number }> = [
    { name: 'case 1', key: Buffer.alloc(20, 0x0b), data: 'Hi There', mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
    { name: 'case 2', key: Buffer.from('Jefe'), data: 'what do ya want for nothing?', mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
    { name: 'case 5 (truncated to 128 bits)', key: Buffer.alloc(20, 0x0c), data: 'Test With Truncation', mac: 'a3b6167473100ee06e0c796c2955552b', length: 16 },
    {
      name: 'case 6 (131-byte key)',
      key: Buffer.alloc(131, 0xaa),
      data: 'Test Using Larger Than Block-Size Key - Hash Key First',
      mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    },
    {
      name: 'case 7 (131-byte key, long data)',
      key: Buffer.alloc(131, 0xaa),
      data: 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    },
  ];
  for (const v of vectors) {
    it(`RFC 4231 ${v.name}`, () => {
      expect(new HmacSha256Key(v.key).mac(v.data, v.length).toString('hex')).toBe(v.mac);
    });
  }

  it('agrees with node:crypto on 3,000 random keys and inputs: every length across the block and padding edges, non-ASCII text', () => {
    for (let i = 0; i < 3000; i++) {
      const key = randomBytes(1 + (i % 150));
      const length = i % 300;
      let text = randomBytes(length).toString('latin1'); // every code unit 0-255: 1 or 2 bytes in UTF-8
      if (i % 7 === 0) text += '€😀'; // 3 and 4 bytes
      const expected = createHmac('sha256', key).update(text).digest();
      expect(new HmacSha256Key(key).mac(text)).toEqual(expected);
    }
  });

  it('grows its buffer for inputs longer than it has seen, and stays right after', () => {
    const key = randomBytes(32);
    for (const length of [5000, 70_000, 10]) {
      const text = 'x'.repeat(length);
      expect(hmacKey(key).mac(text)).toEqual(createHmac('sha256', key).update(text).digest());
    }
  });

  it('prepares a secret once and gives each secret its own key', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(hmacKey(a)).toBe(hmacKey(a));
    expect(hmacKey(a).mac('same')).not.toEqual(hmacKey(b).mac('same'));
    expect(hmacKey(a).mac('same')).toEqual(createHmac('sha256', a).update('same').digest());
  });
});
