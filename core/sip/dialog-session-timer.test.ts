import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DialogSessionTimer, type RefreshedDialog } from './dialog-session-timer.js';

/** A call that answers each refresh with the next of `statuses` (the last one repeated). */
function fakeDialog(statuses: { status: number; minSe?: number }[]): RefreshedDialog & { refreshes: number; expired: number; established: () => boolean; over: boolean } {
  const dialog = {
    refreshes: 0,
    expired: 0,
    over: false,
    established: () => !dialog.over,
    refresh: () => Promise.resolve(statuses[Math.min(dialog.refreshes++, statuses.length - 1)]!),
    expire: () => {
      dialog.expired++;
      dialog.over = true;
    },
  };
  return dialog;
}

function answeredAsRefresher(dialog: RefreshedDialog, interval = 90): DialogSessionTimer {
  const timer = new DialogSessionTimer(dialog);
  timer.inviteAnswered({ getHeader: (name) => (name === 'session-expires' ? `${interval};refresher=uac` : undefined) });
  return timer;
}

describe('a dialog refreshing its session (RFC 4028 §10)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ends the call when its refresh times out or finds no dialog (408, 481)', async () => {
    for (const status of [408, 481]) {
      const dialog = fakeDialog([{ status }]);
      answeredAsRefresher(dialog);
      await vi.advanceTimersByTimeAsync(44_000);
      expect(dialog.refreshes).toBe(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(dialog.refreshes, `status ${status}`).toBe(1);
      expect(dialog.expired, `status ${status}`).toBe(1);
    }
  });

  it('tries a refresh that could not be sent (a passing local fault) again, and ends the call only where the peer would', async () => {
    const dialog = fakeDialog([{ status: 0 }, { status: 200 }]);
    answeredAsRefresher(dialog);
    await vi.advanceTimersByTimeAsync(45_000);
    expect([dialog.refreshes, dialog.expired]).toEqual([1, 0]);
    await vi.advanceTimersByTimeAsync(8_000); // halfway to the peer's give-up point (60 s)
    expect([dialog.refreshes, dialog.expired]).toEqual([2, 0]);
    const failing = fakeDialog([{ status: 0 }]);
    answeredAsRefresher(failing);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(failing.expired).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(failing.expired).toBe(1);
  });

  it('keeps a refreshed session, and retries a refused refresh until the peer would give up, then ends the call', async () => {
    const refreshed = fakeDialog([{ status: 200 }]);
    const timer = answeredAsRefresher(refreshed);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(refreshed.refreshes).toBe(1);
    timer.reinviteAnswered({ getHeader: (name) => (name === 'session-expires' ? '90;refresher=uac' : undefined) });
    await vi.advanceTimersByTimeAsync(45_000);
    expect([refreshed.refreshes, refreshed.expired]).toEqual([2, 0]);

    const refused = fakeDialog([{ status: 500 }]);
    answeredAsRefresher(refused);
    // 90 s session: the peer gives up at 90 − 30 = 60 s; tries at 45 s, then halfway to 60 s each time
    await vi.advanceTimersByTimeAsync(59_000);
    expect(refused.refreshes).toBeGreaterThan(2);
    expect(refused.expired).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(refused.expired).toBe(1);
  });

  it('answers a 422 at once with the Min-SE it names, and asks for it from then on (§7.3)', async () => {
    const dialog = fakeDialog([{ status: 422, minSe: 120 }, { status: 200 }]);
    const timer = answeredAsRefresher(dialog);
    expect(timer.requestHeaders).toEqual(['Session-Expires: 90;refresher=uac', 'Min-SE: 90']); // §7.4: ours at least
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dialog.refreshes).toBe(2);
    expect(timer.requestHeaders).toEqual(['Session-Expires: 120;refresher=uac', 'Min-SE: 120']); // §7.4: the Min-SE a 422 set goes on
    expect(dialog.expired).toBe(0);
  });

  it('starts nothing once the call is over', async () => {
    const dialog = fakeDialog([{ status: 200 }]);
    const timer = answeredAsRefresher(dialog);
    timer.end();
    timer.reinviteAnswered({ getHeader: () => '90;refresher=uac' });
    expect(timer.state).toBeUndefined();
    await vi.advanceTimersByTimeAsync(100_000);
    expect([dialog.refreshes, dialog.expired]).toEqual([0, 0]);
  });

  it('never asks for an interval below the Min-SE it sends (§4), even one learnt from a request that set no timer', () => {
    const timer = new DialogSessionTimer(fakeDialog([{ status: 200 }]), 90);
    timer.inviteReceived({ getHeader: (name) => (name === 'min-se' ? '1800' : undefined), getHeaders: () => [] });
    expect(timer.requestHeaders).toEqual([]); // no timer yet
    timer.reinviteAnswered({ getHeader: (name) => (name === 'session-expires' ? '100;refresher=uac' : undefined) });
    expect(timer.requestHeaders).toEqual(['Session-Expires: 1800;refresher=uac', 'Min-SE: 1800']);
  });
});
