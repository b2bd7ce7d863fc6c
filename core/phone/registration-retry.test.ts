import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RegistrationRetry } from './registration-retry.js';

describe('RegistrationRetry (RFC 5626 §4.5 backoff)', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  it('tries again after a lost or failed registration, waiting 50-100 % of 30 s, 60 s, 120 s … up to 30 min, and starts over after a success', async () => {
    const tries: number[] = [];
    const retry = new RegistrationRetry(async () => void tries.push(Date.now()), () => true, { random: () => 1 });
    retry.changed('unregistered'); // a refresh that timed out
    await vi.advanceTimersByTimeAsync(30_000);
    expect(tries).toEqual([30_000]);
    for (const wait of [60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000]) {
      retry.changed('failed', { cause: 'no-answer' });
      expect(retry.nextAttemptAt).toBe(Date.now() + wait);
      await vi.advanceTimersByTimeAsync(wait);
    }
    expect(tries).toHaveLength(8);
    retry.changed('registered');
    retry.changed('failed', { cause: 'unreachable' }); // the TCP connection dropped
    expect(retry.nextAttemptAt).toBe(Date.now() + 30_000);
    retry.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(tries).toHaveLength(8);
  });

  it('draws each wait at random within 50-100 % of its ceiling, so phones that lost one server do not all come back at once', () => {
    const retry = new RegistrationRetry(async () => undefined, () => true, { random: () => 0 });
    retry.changed('failed', { status: 503 });
    expect(retry.nextAttemptAt).toBe(15_000);
    retry.stop();
  });

  it('does not try again what a retry cannot change (a wrong password, an unknown user), nor when the user no longer wants the registration', async () => {
    let wanted = true;
    const register = vi.fn(async () => undefined);
    const retry = new RegistrationRetry(register, () => wanted, { random: () => 1 });
    retry.changed('failed', { cause: 'credentials', status: 401 });
    retry.changed('failed', { cause: 'rejected', status: 404 });
    expect(retry.nextAttemptAt).toBeUndefined();
    retry.changed('failed', { cause: 'no-answer' });
    wanted = false; // the user unregistered meanwhile
    await vi.advanceTimersByTimeAsync(30_000);
    expect(register).not.toHaveBeenCalled();
    retry.changed('unregistered');
    expect(retry.nextAttemptAt).toBeUndefined();
    // a try already due is called off (and no longer shown) as the user unregisters
    wanted = true;
    retry.changed('failed', { cause: 'no-answer' });
    expect(retry.nextAttemptAt).toBeDefined();
    wanted = false;
    retry.changed('unregistered');
    expect(retry.nextAttemptAt).toBeUndefined();
  });

  it("waits at least a 503's Retry-After (RFC 3261 §21.5.4), never past the longest wait, and a shorter one does not hasten it", () => {
    const retry = new RegistrationRetry(async () => undefined, () => true, { random: () => 1 });
    retry.changed('failed', { status: 503, cause: 'rejected', retryAfterMs: 300_000 });
    expect(retry.nextAttemptAt).toBe(300_000);
    retry.stop();
    const parked = new RegistrationRetry(async () => undefined, () => true, { random: () => 1 });
    parked.changed('failed', { status: 503, cause: 'rejected', retryAfterMs: 86_400_000 });
    expect(parked.nextAttemptAt).toBe(1_800_000);
    parked.stop();
    const soon = new RegistrationRetry(async () => undefined, () => true, { random: () => 1 });
    soon.changed('failed', { status: 500, cause: 'rejected', retryAfterMs: 1_000 });
    expect(soon.nextAttemptAt).toBe(30_000);
    soon.stop();
  });
});
