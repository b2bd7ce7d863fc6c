import { useEffect, useRef } from 'react';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';
import { WaitingCallActions } from './WaitingCallActions.js';

/**
 * An incoming call as the network presents it; an anonymous caller gets no callback details. At a household terminal
 * (seed 001 ¶[57]-[58]) it says whether the caller dialled the whole room or this phone. `waiting`: another call is
 * up, and this one waits (shown so outside the phone view, where the call list is not): answering holds or ends that.
 */
export function IncomingCall({ call, waiting = false }: { call: CallSnapshot; waiting?: boolean }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  const answerButton = useRef<HTMLButtonElement>(null);
  // A ringing call takes the focus from a button (Enter on a history row's call-back would dial out over it), never
  // from a field the user is typing in, and not while another call is up (Enter would put that one on hold).
  useEffect(() => {
    const focused = document.activeElement;
    if (!waiting && (focused === null || focused === document.body || focused.tagName === 'BUTTON')) answerButton.current?.focus();
  }, [call.id, waiting]);
  const title = waiting ? t('waitingCall') : t('incomingCall');
  return (
    <section className={`incoming-call${waiting ? ' waiting-call' : ''}`} role="alertdialog" aria-label={title}>
      <h2>{title}</h2>
      <p className="party">
        <bdi>{call.remote.anonymous ? t('anonymous') : call.remote.shown}</bdi>
      </p>
      {call.rang !== undefined ? <p className="ring-scope">{t(call.rang === 'room' ? 'rangRoom' : 'rangTerminal')}</p> : null}
      {call.remote.anonymous ? <p className="call-detail">{t('noCallback')}</p> : <p className="call-detail">{call.remote.uri}</p>}
      <div className="call-controls">
        {waiting ? (
          <WaitingCallActions call={call} />
        ) : (
          <>
            <button type="button" className="answer" ref={answerButton} onClick={() => void run((api) => api.answer(call.id))}>
              {t('answer')}
            </button>
            <button type="button" className="hangup" onClick={() => void run((api) => api.reject(call.id, 486))}>
              {t('reject')}
            </button>
          </>
        )}
      </div>
    </section>
  );
}
