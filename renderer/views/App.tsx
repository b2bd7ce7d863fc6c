import { useEffect } from 'react';
import { audioCall } from '../audio/audio-call.js';
import { useAudioBridge } from '../audio/use-audio-bridge.js';
import { useCallTones } from '../audio/use-call-tones.js';
import { useCallNotifications } from '../notifications/use-call-notifications.js';
import { useCallFailures } from '../store/call-failure-store.js';
import { sendDtmfDigit } from '../store/dtmf-store.js';
import { usePhone } from '../store/phone-store.js';
import { ActiveCall } from './ActiveCall.js';
import { CallDiagnostics } from './CallDiagnostics.js';
import { CallFailureCard } from './CallFailureCard.js';
import { ConnectionBanner } from './ConnectionBanner.js';
import { CallList } from './CallList.js';
import { CallRules } from './CallRules.js';
import { ContactSuggestions } from './ContactSuggestions.js';
import { Contacts } from './Contacts.js';
import { focusedCall } from './call-focus.js';
import { Dialer } from './Dialer.js';
import { History } from './History.js';
import { IncomingCall } from './IncomingCall.js';
import { RingerBlockedHint } from './RingerBlockedHint.js';
import { Settings } from './Settings.js';
import { StatusBar } from './StatusBar.js';
import { TabBar } from './TabBar.js';
import { useNarrowWindow } from './use-narrow.js';
import { ViewErrorMessage } from './ViewErrorMessage.js';

/**
 * Keyboard first: digits type into the dialer (DTMF in a call), Enter calls (answers a ringing call), Esc hangs up (or
 * rejects a ringing call, or closes the card of a failed call).
 */
function useKeyboard(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const state = usePhone.getState();
      const calls = Object.values(state.calls);
      const failures = useCallFailures.getState();
      const target = event.target as HTMLElement | null;
      const inField = target !== null && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA');
      // Esc in another field (a transfer target, a search, a contact's name) is that field's: it ends no call
      if (event.key === 'Escape' && inField && target.id !== 'dial-string') return;
      if (event.key === 'Escape') {
        // the call in the main card (the one that talks), never a held one behind it; outside the phone view, where no
        // call card shows, only the ringing call whose dialog is on screen
        const call = state.view === 'phone' ? (focusedCall(calls) ?? calls[0]) : calls.find((c) => c.state === 'incoming');
        if (call) void state.run((api) => (call.state === 'incoming' ? api.reject(call.id, 486) : api.hangup(call.id)));
        else for (const card of failures.cards) failures.dismiss(card.callId);
        return;
      }
      if (inField) return;
      if (state.view !== 'phone') return;
      // in a call, digits are DTMF to the other side
      const inCall = audioCall(state.calls);
      if (inCall && /^[0-9*#]$/.test(event.key)) {
        void state.run((api) => sendDtmfDigit(api, inCall.id, event.key));
        event.preventDefault();
        return;
      }
      if (/^[0-9*#]$/.test(event.key)) {
        for (const card of failures.cards) failures.dismiss(card.callId); // typing a number goes back to the dialer
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

/** The page's language follows the phone's, so the browser breaks Japanese lines between phrases (word-break: auto-phrase). */
function useDocumentLanguage(): void {
  const language = usePhone((s) => s.language);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
}

/**
 * The phone. A wide window (720 px and up) shows the phone beside its history, as two panes; a narrow one (the desktop
 * window opens at 420×720) is dialer first and shows one view at a time, chosen in a tab bar: phone, history,
 * settings. Incoming calls show above whatever view is open; a failed call's card stays a few seconds in the phone
 * view; errors show in the view they were raised in.
 */
export function App() {
  const narrow = useNarrowWindow();
  const calls = usePhone((s) => s.calls);
  const storedView = usePhone((s) => s.view);
  const failures = useCallFailures((s) => s.cards);
  useKeyboard();
  useDocumentLanguage();
  useAudioBridge();
  useCallTones();
  useCallNotifications();
  // the history has its own tab only in a narrow window; a wide one shows it beside the phone
  const view = storedView === 'history' && !narrow ? 'phone' : storedView;
  const list = Object.values(calls);
  const incoming = list.filter((c) => c.state === 'incoming');
  // several calls: the main card shows the one that talks; the others (waiting, held) are in the call list
  const active = focusedCall(list);
  const failure = failures.at(-1);
  return (
    <div className={`app ${narrow ? 'narrow' : 'wide'} view-${view}`}>
      <StatusBar narrow={narrow} />
      <ConnectionBanner />
      <RingerBlockedHint />
      <div className="panes">
        <main id="view" role={narrow ? 'tabpanel' : undefined} aria-labelledby={narrow ? `tab-${view}` : undefined}>
          {/* a call waiting beside one that is up is in the call list of the phone view; in any other view it shows here */}
          {(!active || view !== 'phone') &&
            incoming.map((call) => (
              <IncomingCall key={call.id} call={call} waiting={active !== undefined} />
            ))}
          {view === 'settings' ? (
            <>
              <Settings />
              <CallRules />
            </>
          ) : view === 'history' ? (
            <History narrow />
          ) : active ? (
            <>
              <ActiveCall call={active} />
              <CallList focused={active} calls={list} />
            </>
          ) : failure ? (
            <CallFailureCard failure={failure} />
          ) : (
            <>
              <Dialer />
              <ContactSuggestions />
              <Contacts />
            </>
          )}
          <ViewErrorMessage view={view} />
        </main>
        {!narrow && view === 'phone' && <History />}
      </div>
      {narrow && <TabBar />}
      <CallDiagnostics />
    </div>
  );
}
