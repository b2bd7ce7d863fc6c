import { describe, expect, it } from 'vitest';
import { checkKeepalive } from './account-config-check.js';

describe('keep-alive timings (checkKeepalive)', () => {
  it('refuses an interval that would spin, a NaN retry or a negative timeout, and takes sane ones', () => {
    expect(() => checkKeepalive({ intervalMs: 0, timeoutMs: 200 })).toThrow(/keepalive\.intervalMs must be/);
    expect(() => checkKeepalive({ intervalMs: 1000, timeoutMs: 200, primaryRetryMs: Number.NaN })).toThrow(/keepalive\.primaryRetryMs must be/);
    expect(() => checkKeepalive({ intervalMs: 1000, timeoutMs: -1 })).toThrow(/keepalive\.timeoutMs must be/);
    expect(() => checkKeepalive({ intervalMs: 30_000, timeoutMs: 2000, primaryRetryMs: 30_000 })).not.toThrow();
    expect(() => checkKeepalive({ intervalMs: 30_000, timeoutMs: 2000 })).not.toThrow();
  });
});
