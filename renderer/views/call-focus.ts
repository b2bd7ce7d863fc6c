import type { CallSnapshot } from '../../core/api/phone-types.js';

/**
 * The call the main card shows: the one that talks (established, not on hold), else one being placed, else the
 * latest held one. Ringing incoming calls are never it: they wait in their own card or in the call list.
 */
export function focusedCall(calls: readonly CallSnapshot[]): CallSnapshot | undefined {
  const live = calls.filter((c) => c.state !== 'incoming');
  return live.find((c) => c.state === 'established' && !c.localHold) ?? live.find((c) => c.state === 'calling' || c.state === 'ringing') ?? live.at(-1);
}
