import type { CallSnapshot } from '../../core/api/phone-types.js';

/** Why an outgoing call did not connect, or an answered one was dropped, in the words the call card shows. */
export type FailureReason = 'busy' | 'no-such-number' | 'no-answer' | 'not-available' | 'declined' | 'unreachable' | 'rejected' | 'media-lost' | 'session-expired';

export interface CallFailure {
  callId: string;
  /** Who was called, as the call showed them. */
  party: string;
  reason: FailureReason;
  /** The final SIP status and its reason phrase, when the network gave one. */
  status?: number;
  phrase?: string;
  /** `media-lost`: the seconds without audio from the far end after which the phone ended the call. */
  seconds?: number;
}

/**
 * Why a call ended that the user did not end: an answered call (either way) the phone dropped when no audio came from
 * the far end for the account's media timeout, or when its session timer ran out (RFC 4028: the peer or the path to
 * it is gone); otherwise why an outgoing call did not connect (callFailureOf).
 */
export function callEndOf(call: CallSnapshot, rang: boolean): CallFailure | undefined {
  const cause = call.state === 'terminated' ? call.endCause : undefined;
  const party = call.remote.anonymous ? '' : call.remote.shown;
  if (cause?.kind === 'no-media') return { callId: call.id, party, reason: 'media-lost', seconds: cause.seconds };
  if (cause?.kind === 'session-expired') return { callId: call.id, party, reason: 'session-expired' };
  return callFailureOf(call, rang);
}

/**
 * Why an outgoing call that never connected ended, or undefined when it is no failure to report (it was answered,
 * or this phone cancelled it). From the final status of the INVITE (RFC 3261 §21): 486/600 busy; 404/604/484/410 no
 * such number; a 487 this phone did not ask for, and a 408 or a 480 after the far end rang, no answer; a 480 before
 * anything rang, not available (RFC 3261 §21.4.18: not signed in now, or not taking calls); 603 declined;
 * 502/503/504, a 408 before anything rang (nothing answered the INVITE) and an end without any status, not reachable;
 * any other 4xx-6xx rejected with its code.
 */
export function callFailureOf(call: CallSnapshot, rang: boolean): CallFailure | undefined {
  if (call.direction !== 'outgoing' || call.state !== 'terminated' || call.answeredAt !== undefined) return undefined;
  const status = call.status;
  if (status !== undefined && status < 300) return undefined;
  if (status === 487 && call.endedBy === 'local') return undefined; // the user hung up while it rang
  const failure = (reason: FailureReason): CallFailure => ({
    callId: call.id,
    party: call.remote.anonymous ? '' : call.remote.shown,
    reason,
    ...(status !== undefined ? { status } : {}),
    ...(call.reason !== undefined ? { phrase: call.reason } : {}),
  });
  if (status === undefined) return call.endedBy === 'local' ? undefined : failure('unreachable');
  if (status === 486 || status === 600) return failure('busy');
  if (status === 404 || status === 604 || status === 484 || status === 410) return failure('no-such-number');
  if (status === 480) return failure(rang ? 'no-answer' : 'not-available');
  if (status === 487) return failure('no-answer');
  if (status === 408) return failure(rang ? 'no-answer' : 'unreachable');
  if (status === 603) return failure('declined');
  if (status === 502 || status === 503 || status === 504) return failure('unreachable');
  return failure('rejected');
}
