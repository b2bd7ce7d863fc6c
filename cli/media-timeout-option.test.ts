import { describe, expect, it } from 'vitest';
import { defaultMediaTimeout, mediaTimeoutMaxSeconds } from '../core/phone/media-timeout.js';
import { mediaTimeoutOption } from './media-timeout-option.js';

describe('--media-timeout', () => {
  it('0 turns off both limits, talking and held; another value limits talking and leaves holds at the default', () => {
    expect(mediaTimeoutOption('0')).toEqual({ seconds: 0, heldSeconds: 0 });
    expect(mediaTimeoutOption('45')).toEqual({ seconds: 45 });
    expect(mediaTimeoutOption(String(mediaTimeoutMaxSeconds))).toEqual({ seconds: mediaTimeoutMaxSeconds });
    expect(defaultMediaTimeout.heldSeconds).toBeGreaterThan(0); // what "the default" above keeps
  });

  it('refuses what is not a number of seconds in range', () => {
    for (const bad of ['', '-1', '1.5', '30s', ' 30', '0x10', '123456', String(mediaTimeoutMaxSeconds + 1)]) expect(mediaTimeoutOption(bad), bad).toBeUndefined();
  });
});
