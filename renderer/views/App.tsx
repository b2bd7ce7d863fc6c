import { useEffect } from 'react';
import { usePhone } from '../store/phone-store.js';
import { ActiveCall } from './ActiveCall.js';
import { CallDiagnostics } from './CallDiagnostics.js';
import { Dialer } from './Dialer.js';
import { History } from './History.js';
import { IncomingCall } from './IncomingCall.js';
import { StatusBar } from './StatusBar.js';
import { useT } from './use-t.js';

/** Keyboard first: digits type into the dialer, Enter calls, Esc hangs up (or rejects a ringing call). */
function useKeyboard(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const state = usePhone.getState();
      const calls = Object.values(state.calls);
      if (event.key === 'Escape') {
        const call = calls.find((c) => c.state !== 'incoming') ?? calls[0];
        if (call) void state.run((api) => (call.state === 'incoming' ? api.reject(call.id, 486) : api.hangup(call.id)));
        return;
      }
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
      if (/^[0-9*#]$/.test(event.key)) {
        state.setDialString(state.dialString + event.key);
        event.preventDefault();
      } else if (event.key === 'Backspace') {
        state.setDialString(state.dialString.slice(0, -1));
      } else if (event.key === 'Enter' && calls.length === 0) {
        void state.dial();
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
  useKeyboard();
  const list = Object.values(calls);
  const incoming = list.filter((c) => c.state === 'incoming');
  const active = list.find((c) => c.state !== 'incoming');
  return (
    <div className="app">
      <StatusBar />
      <main>
        {incoming.map((call) => (
          <IncomingCall key={call.id} call={call} />
        ))}
        {active ? <ActiveCall call={active} /> : <Dialer />}
        {error && (
          <p className="error" role="alert">
            {t(`error_${error.code}`)} <small>({error.message})</small>{' '}
            <button type="button" onClick={clearError} aria-label="dismiss">
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
