import { create } from 'zustand';
import type { CallLogEntry } from '../../core/api/call-log-types.js';
import type { PhoneApi } from '../../core/api/phone-api.js';
import { PhoneError } from '../../core/api/phone-error.js';
import type { CallSnapshot, PhoneEvent, PhoneSnapshot, RegistrationSnapshot } from '../../core/api/phone-types.js';
import type { Language } from '../i18n/strings.js';
import type { ConnectionProblem } from '../phone-client/session-check.js';
import { useCallFailures } from './call-failure-store.js';
import { useHistory } from './history-store.js';
import { callRequestOptions, useCallOptions } from './call-options-store.js';

/** The views: the phone (dialer or call), the history (a tab of its own in a narrow window), the settings. */
export type PhoneView = 'phone' | 'history' | 'settings';

/** An error and the view it was raised in: shown there, and gone when the user leaves that view. */
export interface ViewError {
  code: string;
  message: string;
  view: PhoneView;
  /** Raised by an action of the user's (which a later one that works makes stale), not reported by the phone. */
  fromAction?: true;
}

export interface PhoneState {
  api?: PhoneApi;
  connected: boolean;
  /** Why there is no connection to the phone (the served page), once it is known. */
  connectionProblem?: ConnectionProblem;
  language: Language;
  accounts: PhoneSnapshot['accounts'];
  registrations: Record<string, RegistrationSnapshot>;
  calls: Record<string, CallSnapshot>;
  history: CallLogEntry[];
  dialString: string;
  /** One-time address status per account, and whether the phone runs on the embedded lab. */
  addresses: PhoneSnapshot['addresses'];
  network?: PhoneSnapshot['network'];
  lease?: PhoneSnapshot['lease'];
  /** Accounts that are household terminals: number, address and gateway (seed 001). */
  household: NonNullable<PhoneSnapshot['household']>;
  /** The phone (dialer, call; with the history beside it in a wide window), the history, or the settings. */
  view: PhoneView;
  /** Show another view; the errors of the one left go with it. */
  setView(view: PhoneView): void;
  /** Re-read accounts, registrations and addresses (after a settings change, an address event). */
  refreshSnapshot(): Promise<void>;
  /** The last error, as a code the views turn into words, with the view it belongs to. */
  error?: ViewError;
  connect(api: PhoneApi): Promise<void>;
  setDialString(value: string): void;
  setLanguage(language: Language): void;
  dial(): Promise<void>;
  run(action: (api: PhoneApi) => Promise<unknown>): Promise<void>;
  refreshHistory(): Promise<void>;
  clearError(): void;
}

/** The one store the views read; it only ever talks to the phone through PhoneApi. */
export const usePhone = create<PhoneState>((set, get) => ({
  connected: false,
  language: navigator.language.startsWith('ja') ? 'ja' : 'en',
  accounts: [],
  registrations: {},
  calls: {},
  history: [],
  dialString: '',
  addresses: [],
  household: [],
  view: 'phone',
  setView: (view) => set({ view, error: undefined }),

  async refreshSnapshot() {
    const api = get().api;
    if (!api) return;
    const snapshot = await api.snapshot();
    const options = useCallOptions.getState();
    const previous = get().accounts.find((a) => a.id === options.accountId);
    set({
      accounts: snapshot.accounts,
      registrations: Object.fromEntries(snapshot.registrations.map((r) => [r.accountId, r])),
      addresses: snapshot.addresses,
      network: snapshot.network,
      lease: snapshot.lease,
      household: snapshot.household ?? [],
    });
    // the dialer's switch follows the account's default when the account (or its default) changed
    const next = snapshot.accounts.find((a) => a.id === options.accountId);
    if (!next || JSON.stringify(next.anonymity) !== JSON.stringify(previous?.anonymity)) options.selectAccount(next ?? snapshot.accounts[0]);
  },

  async connect(api) {
    set({ api });
    useHistory.getState().attach(api);
    api.subscribe((event) => {
      // a call the phone forwards is not the user's: its target refusing is no failure card of theirs
      if ((event.type === 'call' || event.type === 'incoming') && event.call.forwardedTo === undefined) useCallFailures.getState().note(event.call);
      set((state) => reduceEvent(state, event));
      if ((event.type === 'call' || event.type === 'incoming') && event.call.state === 'terminated') void get().refreshHistory();
      if (event.type === 'address') void get().refreshSnapshot();
      // an account the phone added by itself (a stored household terminal, once its gateway allotted it a number)
      if (event.type === 'registration' && !get().accounts.some((a) => a.id === event.registration.accountId)) void get().refreshSnapshot();
    });
    let snapshot: PhoneSnapshot;
    try {
      snapshot = await api.snapshot();
    } catch {
      return; // the socket never opened: the host says why (connectionProblem)
    }
    set({
      connected: true,
      accounts: snapshot.accounts,
      registrations: Object.fromEntries(snapshot.registrations.map((r) => [r.accountId, r])),
      calls: Object.fromEntries(snapshot.calls.map((c) => [c.id, c])),
      addresses: snapshot.addresses,
      network: snapshot.network,
      lease: snapshot.lease,
      household: snapshot.household ?? [],
    });
    useCallOptions.getState().selectAccount(snapshot.accounts[0]);
    await get().refreshHistory();
  },

  setDialString: (value) => set({ dialString: value.slice(0, 256) }),
  setLanguage: (language) => set({ language }),

  async dial() {
    const target = get().dialString.trim();
    if (target.length === 0) return;
    await get().run(async (api) => {
      await api.call({ target, ...callRequestOptions() });
      set({ dialString: '' });
    });
  },

  async run(action) {
    const api = get().api;
    if (!api) return;
    const before = get().error;
    try {
      await action(api);
      // the same view's next action worked: its earlier error is stale (a refused save, then a save that went through)
      // (a warning the phone reported — a binding maybe left at the server, a lost lease — stays until dismissed)
      if (before?.fromAction && get().error === before && before.view === get().view) set({ error: undefined });
    } catch (error) {
      const code = error instanceof PhoneError ? error.code : 'INTERNAL';
      set({ error: { code, message: (error as Error).message, view: get().view, fromAction: true } });
    }
  },

  async refreshHistory() {
    const api = get().api;
    if (!api) return;
    const [page] = await Promise.all([api.history({ limit: 100 }), useHistory.getState().refresh()]);
    set({ history: page.calls });
  },

  clearError: () => set({ error: undefined }),
}));

function reduceEvent(state: PhoneState, event: PhoneEvent): Partial<PhoneState> {
  switch (event.type) {
    case 'registration':
      return { registrations: { ...state.registrations, [event.registration.accountId]: event.registration } };
    case 'call':
    case 'incoming': {
      const calls = { ...state.calls, [event.call.id]: event.call };
      // a call the phone forwards (forwardedTo) is no longer the user's to answer: it leaves the list (and stops ringing)
      if (event.call.state === 'terminated' || event.call.forwardedTo !== undefined) delete calls[event.call.id];
      return { calls };
    }
    case 'lease':
      return { lease: event.lease };
    case 'error':
      // A registration that failed is shown with its account in the status bar (its snapshot says why).
      if (event.code === 'REGISTER_FAILED') return {};
      return { error: { code: event.code, message: event.message, view: state.view } };
    case 'dial-request':
      // a sip:/tel: link: fill the dialer; calling stays the user's decision
      return { dialString: event.target.slice(0, 256) };
    default:
      return {};
  }
}
