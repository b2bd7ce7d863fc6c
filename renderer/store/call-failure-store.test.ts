import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { failureCardMs, finalStatusGraceMs, useCallFailures } from './call-failure-store.js';

const call = (change: Partial<CallSnapshot>): CallSnapshot => ({ id: 'c1', accountId: 'a', direction: 'outgoing', state: 'calling', remote: { shown: 'bob', uri: 'sip:bob@lab', anonymous: false }, sipCallId: 'x', startedAt: 0, localHold: false, remoteHold: false, muted: false, ...change });

describe('the cards of failed calls (renderer/store/call-failure-store.ts)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    useCallFailures.setState({ cards: [], rang: {} });
  });
  afterEach(() => vi.useRealTimers());

  it('keeps a card a few seconds, waiting for the final status when the end comes first (no wrong reason flashes)', () => {
    const { note } = useCallFailures.getState();
    note(call({ state: 'ringing' }));
    note(call({ state: 'terminated', endedBy: 'network' })); // the phone's first word: ended, no status yet
    expect(useCallFailures.getState().cards).toEqual([]);
    note(call({ state: 'terminated', endedBy: 'network', status: 408, reason: 'Request Timeout' }));
    expect(useCallFailures.getState().cards).toEqual([{ callId: 'c1', party: 'bob', reason: 'no-answer', status: 408, phrase: 'Request Timeout' }]); // it rang: no answer
    vi.advanceTimersByTime(finalStatusGraceMs); // the wait for a status that came is over: no second card
    expect(useCallFailures.getState().cards).toHaveLength(1);
    vi.advanceTimersByTime(failureCardMs - finalStatusGraceMs - 1);
    expect(useCallFailures.getState().cards).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(useCallFailures.getState().cards).toEqual([]);
    expect(useCallFailures.getState().rang).toEqual({});
  });

  it('says "not reachable" for a call that ended without any final status, once none came', () => {
    const { note } = useCallFailures.getState();
    note(call({ state: 'terminated', endedBy: 'network' }));
    note(call({ state: 'terminated', endedBy: 'network' })); // said twice: still one card
    vi.advanceTimersByTime(finalStatusGraceMs - 1);
    expect(useCallFailures.getState().cards).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(useCallFailures.getState().cards).toEqual([{ callId: 'c1', party: 'bob', reason: 'unreachable' }]);
    vi.advanceTimersByTime(failureCardMs);
    expect(useCallFailures.getState().cards).toEqual([]);
  });

  it('shows nothing for an answered call, and forgets that it rang', () => {
    const { note } = useCallFailures.getState();
    note(call({ state: 'ringing' }));
    note(call({ state: 'terminated', status: 200, answeredAt: 1, endedBy: 'remote' }));
    expect(useCallFailures.getState()).toMatchObject({ cards: [], rang: {} });
    note(call({ id: 'c2', state: 'terminated', status: 486 }));
    useCallFailures.getState().dismiss('c2');
    expect(useCallFailures.getState().cards).toEqual([]);
  });
});
