import type { CallSnapshot } from '../../core/api/phone-types.js';

/** The call whose audio the devices carry: an established call, the one not on hold first. */
export function audioCall(calls: Record<string, CallSnapshot>): CallSnapshot | undefined {
  const established = Object.values(calls).filter((c) => c.state === 'established');
  return established.find((c) => !c.localHold) ?? established[0];
}
