import type { CallSnapshot } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/**
 * An incoming call as the network presents it; an anonymous caller gets no callback details. At a household terminal
 * (seed 001 ¶[57]-[58]) it says whether the caller dialled the whole room or this phone.
 */
export function IncomingCall({ call }: { call: CallSnapshot }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  return (
    <section className="incoming-call" role="alertdialog" aria-label={t('incomingCall')}>
      <h2>{t('incomingCall')}</h2>
      <p className="party">
        <bdi>{call.remote.anonymous ? t('anonymous') : call.remote.shown}</bdi>
      </p>
      {call.rang !== undefined ? <p className="ring-scope">{t(call.rang === 'room' ? 'rangRoom' : 'rangTerminal')}</p> : null}
      {call.remote.anonymous ? <p className="call-detail">{t('noCallback')}</p> : <p className="call-detail">{call.remote.uri}</p>}
      <div className="call-controls">
        <button type="button" className="answer" onClick={() => void run((api) => api.answer(call.id))}>
          {t('answer')}
        </button>
        <button type="button" className="hangup" onClick={() => void run((api) => api.reject(call.id, 486))}>
          {t('reject')}
        </button>
      </div>
    </section>
  );
}
