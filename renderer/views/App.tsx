import { useEffect } from 'react';
import { audioCall } from '../audio/audio-call.js';
import { useAudioBridge } from '../audio/use-audio-bridge.js';
import { sendDtmfDigit } from '../store/dtmf-store.js';
import { usePhone } from '../store/phone-store.js';
import { ActiveCall } from './ActiveCall.js';
import { CallDiagnostics } from './CallDiagnostics.js';
import { CallList } from './CallList.js';
import { CallRules } from './CallRules.js';
import { ContactSuggestions } from './ContactSuggestions.js';
import { Contacts } from './Contacts.js';
import { focusedCall } from './call-focus.js';
import { Dialer } from './Dialer.js';
import { History } from './History.js';
import { IncomingCall } from './IncomingCall.js';
import { Settings } from './Settings.js';
import { StatusBar } from './StatusBar.js';
import { useT } from './use-t.js';

/** Keyboard first: digits type into the dialer (DTMF in a call), Enter calls (answers a ringing call), Esc hangs up (or rejects a ringing call). */
function useKeyboard(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const state = usePhone.getState();
      const calls = Object.values(state.calls);
      if (event.key === 'Escape') {
        // the call in the main card (the one that talks), never a held one behind it
        const call = focusedCall(calls) ?? calls[0];
        if (call) void state.run((api) => (call.state === 'incoming' ? api.reject(call.id, 486) : api.hangup(call.id)));
        return;
      }
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
      if (state.view === 'settings') return;
      // in a call, digits are DTMF to the other side
      const inCall = audioCall(state.calls);
      if (inCall && /^[0-9*#]$/.test(event.key)) {
        void state.run((api) => sendDtmfDigit(api, inCall.id, event.key));
        event.preventDefault();
        return;
      }
      if (/^[0-9*#]$/.test(event.key)) {
        state.setDialString(state.dialString + event.key);
        event.preventDefault();
      } else if (event.key === 'Backspace') {
        state.setDialString(state.dialString.slice(0, -1));
      } else if (event.key === 'Enter' && target?.tagName !== 'BUTTON' && calls.length === 0) {
        void state.dial();
      } else if (event.key === 'Enter' && target?.tagName !== 'BUTTON' && calls.length > 0 && calls.every((c) => c.state === 'incoming')) {
        void state.run((api) => api.answer(calls[0]!.id));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export function App() {
  const t = useT();
  const calls = usePhone((s) => s.calls);
  const error = usePhone((s) => s.error);
  const clearError = usePhone((s) => s.clearError);
  const view = usePhone((s) => s.view);
  useKeyboard();
  useAudioBridge();
  const list = Object.values(calls);
  const incoming = list.filter((c) => c.state === 'incoming');
  // several calls: the main card shows the one that talks; the others (waiting, held) are in the call list
  const active = focusedCall(list);
  return (
    <div className={view === 'settings' ? 'app settings-open' : 'app'}>
      <StatusBar />
      <main>
        {!active &&
          incoming.map((call) => (
            <IncomingCall key={call.id} call={call} />
          ))}
        {view === 'settings' ? (
          <>
            <Settings />
            <CallRules />
          </>
        ) : active ? (
          <>
            <ActiveCall call={active} />
            <CallList focused={active} calls={list} />
          </>
        ) : (
          <>
            <Dialer />
            <ContactSuggestions />
            <Contacts />
          </>
        )}
        {error && (
          <p className="error" role="alert">
            {t(`error_${error.code}`)} <small>({error.message})</small>{' '}
            <button type="button" onClick={clearError} aria-label={t('dismiss')}>
              ×
            </button>
          </p>
        )}
      </main>
      <History />
      <CallDiagnostics />
    </div>
  );
}
