import { describe, expect, it } from 'vitest';
import { retryAfterSeconds } from './retry-after.js';

describe('retryAfterSeconds (RFC 3261 §20.33)', () => {
  it("reads the delta-seconds of the RFC's own examples, with a comment and a duration parameter", () => {
    expect(retryAfterSeconds('18000;duration=3600')).toBe(18000);
    expect(retryAfterSeconds('120 (I\'m in a meeting)')).toBe(120);
    expect(retryAfterSeconds(' 5 ')).toBe(5);
    expect(retryAfterSeconds('0')).toBe(0);
  });

  it('takes nothing that is not digits for a delay', () => {
    for (const value of [undefined, '', ' ', '0x10', '1e3', '-5', '5.5', 'soon', '5 minutes', 'Fri, 01 Jan 2027 00:00:00 GMT']) {
      expect(retryAfterSeconds(value), String(value)).toBeUndefined();
    }
  });

  it('bounds a huge value to the largest delta-seconds', () => {
    expect(retryAfterSeconds('99999999999999999999999')).toBe(4_294_967_295);
  });
});
