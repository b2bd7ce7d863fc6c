import { create } from 'zustand';
import type { PhoneApi } from '../../core/api/phone-api.js';

interface DtmfState {
  /** Digits sent per call (the in-call keypad shows them, whether they came from the pad or the keyboard). */
  sent: Record<string, string>;
  record(callId: string, digit: string): void;
}

export const useDtmf = create<DtmfState>((set) => ({
  sent: {},
  record: (callId, digit) => set((state) => ({ sent: { ...state.sent, [callId]: ((state.sent[callId] ?? '') + digit).slice(-24) } })),
}));

/** Send one DTMF digit on a call (RFC 4733 by default) and note it for the keypad. */
export function sendDtmfDigit(api: PhoneApi, callId: string, digit: string): Promise<void> {
  useDtmf.getState().record(callId, digit);
  return api.sendDtmf(callId, digit);
}
