import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha1Tag } from './srtp-auth.js';

const roc = (value: number): Buffer => Buffer.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);

describe('HmacSha1Tag (RFC 2104 over SHA-1, keyed states kept per key)', () => {
  it('RFC 2202 test case 2: key "Jefe", "what do ya want for nothing?"', () => {
    const data = Buffer.from('what do ya want for nothing?');
    const out = Buffer.concat([data, Buffer.alloc(20)]);
    new HmacSha1Tag(Buffer.from('Jefe'), 20).write(out, data.length, undefined, data.length);
    expect(out.subarray(data.length).toString('hex')).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  });

  it('matches node:crypto for every message length 0..300, with and without the ROC, one key state reused', () => {
    const key = randomBytes(20);
    const tag = new HmacSha1Tag(key, 10);
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(length + 10);
      for (const rocValue of [undefined, 0, 0xfedcba98]) {
        const hmac = createHmac('sha1', key).update(data.subarray(0, length));
        if (rocValue !== undefined) hmac.update(roc(rocValue));
        const expected = hmac.digest().subarray(0, 10);
        tag.write(data, length, rocValue, length);
        expect(data.subarray(length).toString('hex'), `length ${length}, roc ${rocValue}`).toBe(expected.toString('hex'));
        expect(tag.verify(data, length, rocValue, length)).toBe(true);
      }
    }
  });

  it('refuses a tag with any one bit flipped, and a different ROC', () => {
    const tag = new HmacSha1Tag(randomBytes(20), 10);
    const data = Buffer.concat([randomBytes(172), Buffer.alloc(10)]);
    tag.write(data, 172, 7, 172);
    for (let bit = 0; bit < 80; bit++) {
      data[172 + (bit >> 3)]! ^= 1 << (bit & 7);
      expect(tag.verify(data, 172, 7, 172)).toBe(false);
      data[172 + (bit >> 3)]! ^= 1 << (bit & 7);
    }
    expect(tag.verify(data, 172, 8, 172)).toBe(false);
    expect(tag.verify(data, 172, 7, 172)).toBe(true);
  });
});
