import { create } from 'zustand';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { callEndOf, type CallFailure } from '../calls/call-failure.js';

/** How long the card of a failed or dropped call stays (unless dismissed): long enough to read why. */
export const failureCardMs = 6000;

/**
 * How long a call that ended without a final status waits for one before its card says "not reachable": the phone
 * may report the end of a call just before the final response that says why (core/sip/sip-call.ts recordFinal), and
 * the card should not flash a wrong reason.
 */
export const finalStatusGraceMs = 1000;

export interface CallFailureState {
  /** Failed and dropped calls whose card is still up, oldest first. */
  cards: CallFailure[];
  /** Calls seen ringing at the far end (a later 408 is then no answer, not an unreachable party). */
  rang: Record<string, true>;
  /** Every call update goes through here; a failure gets its card for `failureCardMs`. */
  note(call: CallSnapshot): void;
  dismiss(callId: string): void;
}

export const useCallFailures = create<CallFailureState>((set, get) => {
  /** Calls that ended without a final status yet (their card waits `finalStatusGraceMs` for it). */
  const waiting = new Set<string>();
  const show = (failure: CallFailure): void => {
    set({ cards: [...get().cards, failure] });
    setTimeout(() => get().dismiss(failure.callId), failureCardMs);
  };
  return {
    cards: [],
    rang: {},
    note(call) {
      if (call.state === 'ringing' && !get().rang[call.id]) set({ rang: { ...get().rang, [call.id]: true } });
      if (call.state !== 'terminated') return;
      const failure = callEndOf(call, get().rang[call.id] === true);
      const shown = get().cards.some((c) => c.callId === call.id);
      if (shown) {
        // the phone may say a call ended before it knows the final status: the card takes the later, fuller word
        if (failure) set({ cards: get().cards.map((c) => (c.callId === call.id ? failure : c)) });
        return;
      }
      if (!failure) {
        get().dismiss(call.id); // nothing to show: forget that it rang
        return;
      }
      if (call.status === undefined) {
        if (waiting.has(call.id)) return;
        waiting.add(call.id);
        setTimeout(() => {
          if (waiting.delete(call.id)) show(failure);
        }, finalStatusGraceMs);
        return;
      }
      waiting.delete(call.id);
      show(failure);
    },
    dismiss(callId) {
      waiting.delete(callId);
      const { [callId]: _rang, ...rang } = get().rang;
      set({ cards: get().cards.filter((c) => c.callId !== callId), rang });
    },
  };
});
