import { describe, expect, it } from 'vitest';
import { checkAccountConfig, checkKeepalive, checkMediaTimeout, checkSessionExpires } from './account-config-check.js';

describe('keep-alive timings (checkKeepalive)', () => {
  it('refuses an interval that would spin, a NaN retry or a negative timeout, and takes sane ones', () => {
    expect(() => checkKeepalive({ intervalMs: 0, timeoutMs: 200 })).toThrow(/keepalive\.intervalMs must be/);
    expect(() => checkKeepalive({ intervalMs: 1000, timeoutMs: 200, primaryRetryMs: Number.NaN })).toThrow(/keepalive\.primaryRetryMs must be/);
    expect(() => checkKeepalive({ intervalMs: 1000, timeoutMs: -1 })).toThrow(/keepalive\.timeoutMs must be/);
    expect(() => checkKeepalive({ intervalMs: 30_000, timeoutMs: 2000, primaryRetryMs: 30_000 })).not.toThrow();
    expect(() => checkKeepalive({ intervalMs: 30_000, timeoutMs: 2000 })).not.toThrow();
  });
});

describe('media timeouts (checkMediaTimeout, and the settings\' check)', () => {
  it('refuses a NaN, negative or fractional one, and takes 0 (never) and whole seconds', () => {
    expect(() => checkMediaTimeout({ seconds: Number.NaN })).toThrow(/mediaTimeout\.seconds must be 0 \(off\)/);
    expect(() => checkMediaTimeout({ heldSeconds: -1 })).toThrow(/mediaTimeout\.heldSeconds must be/);
    expect(() => checkMediaTimeout({ seconds: 1.5 })).toThrow(/mediaTimeout\.seconds must be/);
    expect(() => checkMediaTimeout({ seconds: 0, heldSeconds: 3600 })).not.toThrow();
    const account = { id: 'a', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' };
    expect(checkAccountConfig({ ...account, mediaTimeout: { seconds: 20 } }).mediaTimeout).toEqual({ seconds: 20 });
    expect(() => checkAccountConfig({ ...account, mediaTimeout: { seconds: -5 } })).toThrow(/mediaTimeout\.seconds must be 0 \(off\) or 1-86400 seconds/);
    expect(() => checkAccountConfig({ ...account, mediaTimeout: 30 })).toThrow(/mediaTimeout must be an object/);
  });
});

describe('the session interval an account asks for (checkSessionExpires, and the settings\' check)', () => {
  it('refuses a NaN, negative, fractional or over-a-day one, and takes 0 (none) and whole seconds', () => {
    for (const bad of [Number.NaN, -1, 1.5, 86_401]) expect(() => checkSessionExpires(bad), String(bad)).toThrow(/sessionExpires must be 0 \(none\) or 1-86400 seconds/);
    expect(() => checkSessionExpires(0)).not.toThrow();
    expect(() => checkSessionExpires(1800)).not.toThrow();
    const account = { id: 'a', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' };
    expect(checkAccountConfig({ ...account, sessionExpires: 1800 }).sessionExpires).toBe(1800);
    expect(() => checkAccountConfig({ ...account, sessionExpires: '1800' })).toThrow(/sessionExpires must be 0 \(none\) or 1-86400 seconds/);
  });
});
