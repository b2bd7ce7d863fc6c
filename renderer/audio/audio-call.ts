import type { CallSnapshot } from '../../core/api/phone-types.js';

/** The call whose audio the devices carry: an established call, the one not on hold first. */
export function audioCall(calls: Record<string, CallSnapshot>): CallSnapshot | undefined {
  const established = Object.values(calls).filter((c) => c.state === 'established');
  return established.find((c) => !c.localHold) ?? established[0];
}

/**
 * The call the speaker plays: the established one, else an outgoing call whose far end sends early media (a 183 with
 * SDP: its ringback or announcement, RFC 3960 §3). The core sends nothing of ours before the answer.
 */
export function playbackCall(calls: Record<string, CallSnapshot>): CallSnapshot | undefined {
  return audioCall(calls) ?? Object.values(calls).find((c) => c.earlyMedia === true);
}
