import type { CallFailure } from '../calls/call-failure.js';
import { useCallFailures } from '../store/call-failure-store.js';
import { useT } from './use-t.js';

/**
 * A call that did not connect, or that the phone dropped (no audio came any more, or its session expired), stays on
 * screen a few seconds, saying why in words (and the SIP status behind a failure).
 */
export function CallFailureCard({ failure }: { failure: CallFailure }) {
  const t = useT();
  const dismiss = useCallFailures((s) => s.dismiss);
  const reason = t(`failure_${failure.reason}`)
    .replace('{status}', failure.status !== undefined ? String(failure.status) : '—')
    .replace('{seconds}', String(failure.seconds ?? '—'));
  const title = t(failure.reason === 'media-lost' || failure.reason === 'session-expired' ? 'callDropped' : 'callFailed');
  return (
    <section className={`call-failed failure-${failure.reason}`} role="alert" aria-label={title} data-call={failure.callId}>
      <p className="call-failed-title">{title}</p>
      <h2 className="party">
        <bdi>{failure.party || t('anonymous')}</bdi>
      </h2>
      <p className="failure-reason">{reason}</p>
      <p className="call-detail failure-hint">{t(`failureHint_${failure.reason}`)}</p>
      {failure.status !== undefined && (
        <p className="call-detail failure-status">
          SIP {failure.status}
          {failure.phrase ? (
            <>
              {' '}
              <bdi>{failure.phrase}</bdi>
            </>
          ) : (
            ''
          )}
        </p>
      )}
      <button type="button" className="dismiss" onClick={() => dismiss(failure.callId)}>
        {t('close')}
      </button>
    </section>
  );
}
