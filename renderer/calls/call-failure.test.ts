import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { callEndOf, callFailureOf } from './call-failure.js';

const call = (change: Partial<CallSnapshot>): CallSnapshot => ({ id: 'c1', accountId: 'a', direction: 'outgoing', state: 'calling', remote: { shown: 'bob', uri: 'sip:bob@lab', anonymous: false }, sipCallId: 'x', startedAt: 0, localHold: false, remoteHold: false, muted: false, ...change });

describe('why a call failed, in words (renderer/calls/call-failure.ts)', () => {
  const ended = (status: number | undefined, change: Partial<CallSnapshot> = {}) => callFailureOf(call({ state: 'terminated', endedBy: 'remote', ...(status !== undefined ? { status } : {}), ...change }), false);
  it('names busy, no such number, no answer, declined, not reachable, and any other refusal with its code', () => {
    expect(ended(486)?.reason).toBe('busy');
    expect(ended(600)?.reason).toBe('busy');
    expect(ended(404)?.reason).toBe('no-such-number');
    expect(ended(604)?.reason).toBe('no-such-number');
    expect(ended(484)?.reason).toBe('no-such-number');
    // 480 at once: the callee is not signed in now (the UI review read "No answer" for it); after ringing, no answer
    expect(ended(480)?.reason).toBe('not-available');
    expect(callFailureOf(call({ state: 'terminated', status: 480 }), true)?.reason).toBe('no-answer');
    expect(ended(603)?.reason).toBe('declined');
    expect(ended(503)?.reason).toBe('unreachable');
    expect(ended(undefined, { endedBy: 'network' })?.reason).toBe('unreachable');
    expect(ended(403, { reason: 'Forbidden' })).toEqual({ callId: 'c1', party: 'bob', reason: 'rejected', status: 403, phrase: 'Forbidden' });
    // a 408 after the far end rang is no answer; before, nothing answered the INVITE
    expect(callFailureOf(call({ state: 'terminated', status: 408 }), true)?.reason).toBe('no-answer');
    expect(callFailureOf(call({ state: 'terminated', status: 408 }), false)?.reason).toBe('unreachable');
  });
  it('is quiet about answered calls, calls this phone cancelled, incoming calls and calls still going', () => {
    expect(ended(200, { answeredAt: 5 })).toBeUndefined();
    expect(ended(487, { endedBy: 'local' })).toBeUndefined();
    expect(ended(487)?.reason).toBe('no-answer'); // terminated by the far side or the network
    expect(ended(undefined, { endedBy: 'local' })).toBeUndefined();
    expect(callFailureOf(call({ direction: 'incoming', state: 'terminated', status: 486 }), false)).toBeUndefined();
    expect(callFailureOf(call({ state: 'ringing', status: 486 }), false)).toBeUndefined();
    // an anonymous party stays unnamed on the card
    expect(ended(486, { remote: { shown: 'Anonymous', uri: 'sip:anonymous@anonymous.invalid', anonymous: true } })?.party).toBe('');
  });
  it('says an answered call was dropped when the phone ended it for want of audio, either way; otherwise as before', () => {
    for (const direction of ['incoming', 'outgoing'] as const) {
      expect(callEndOf(call({ direction, state: 'terminated', status: 200, answeredAt: 5, endedBy: 'network', endCause: { kind: 'no-media', seconds: 30 } }), false)).toEqual({ callId: 'c1', party: 'bob', reason: 'media-lost', seconds: 30 });
      expect(callEndOf(call({ direction, state: 'terminated', status: 200, answeredAt: 5, endedBy: 'remote' }), false)).toBeUndefined();
    }
    expect(callEndOf(call({ state: 'terminated', status: 200, answeredAt: 5, endCause: { kind: 'no-media', seconds: 30 }, remote: { shown: 'Anonymous', uri: 'sip:anonymous@anonymous.invalid', anonymous: true } }), false)?.party).toBe('');
    expect(callEndOf(call({ state: 'terminated', status: 486, endedBy: 'remote' }), false)?.reason).toBe('busy');
    expect(callEndOf(call({ direction: 'incoming', state: 'terminated', status: 200, answeredAt: 5, endedBy: 'network', endCause: { kind: 'session-expired' } }), false)).toEqual({ callId: 'c1', party: 'bob', reason: 'session-expired' });
  });
});
