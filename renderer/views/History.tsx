import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/** Recent calls; a non-anonymous entry can be dialled again. */
export function History() {
  const t = useT();
  const history = usePhone((s) => s.history);
  const language = usePhone((s) => s.language);
  const setDialString = usePhone((s) => s.setDialString);
  return (
    <section className="history" aria-label={t('history')}>
      <h2>{t('history')}</h2>
      {history.length === 0 ? (
        <p>{t('noHistory')}</p>
      ) : (
        <ul>
          {history.map((call) => (
            <li key={call.id} className={`history-entry ${call.result}`}>
              <span className="direction" aria-hidden="true">
                {call.direction === 'incoming' ? '↙' : '↗'}
              </span>
              <span className="party">{call.remoteAnonymous ? t('anonymous') : call.remoteShown}</span>
              <span className="result">{t(`result_${call.result}`)}</span>
              <time dateTime={new Date(call.startedAt).toISOString()}>{new Date(call.startedAt).toLocaleString(language)}</time>
              {!call.remoteAnonymous && call.remoteUser !== undefined && (
                <button type="button" aria-label={`${t('call')} ${call.remoteShown}`} onClick={() => setDialString(call.remoteUser ?? '')}>
                  ↻
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
