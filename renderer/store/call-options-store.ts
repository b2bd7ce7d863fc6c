import { create } from 'zustand';
import type { AccountConfig, CallRequest } from '../../core/api/phone-types.js';

export interface CallOptionsState {
  /** The account the next call goes out on (undefined: the first). */
  accountId?: string;
  /** The dialer's Anonymous switch: withhold the caller ID on the next calls. */
  anonymous: boolean;
  /** How an anonymous call hides the caller: the 184 prefix for the network, or the privacy headers. */
  mode: 'prefix' | 'header';
  selectAccount(account: AccountConfig | undefined): void;
  setAnonymous(on: boolean): void;
  setMode(mode: 'prefix' | 'header'): void;
}

/**
 * The dialer's per-call choices. The switch starts at the account's default (and follows it when the account changes);
 * a 184 or 186 typed in front of the number still decides over it (core/privacy).
 */
export const useCallOptions = create<CallOptionsState>((set) => ({
  anonymous: false,
  mode: 'prefix',
  selectAccount: (account) => set({ accountId: account?.id, anonymous: account?.anonymity?.anonymous ?? false, mode: account?.anonymity?.mode ?? 'prefix' }),
  setAnonymous: (anonymous) => set({ anonymous }),
  setMode: (mode) => set({ mode }),
}));

/** What the next call asks for, as CallRequest fields. */
export function callRequestOptions(): Pick<CallRequest, 'accountId' | 'anonymity'> {
  const { accountId, anonymous, mode } = useCallOptions.getState();
  return { ...(accountId !== undefined ? { accountId } : {}), anonymity: anonymous ? mode : 'none' };
}
