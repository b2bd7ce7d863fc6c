import type { CallEncryption } from '../../core/api/call-encryption.js';
import { callLockText } from '../calls/call-lock-text.js';
import { Icon } from './icons.js';
import { useT } from './use-t.js';

/**
 * The encryption lock of a call (issue 18): closed when signalling (TLS/WSS) and voice (SRTP) are both encrypted,
 * open otherwise. `compact` (a history row): the icon alone, its accessible name saying everything; otherwise the
 * icon with the state, the signalling's TLS session and server certificate fingerprint, and the SRTP suite.
 */
export function CallLock({ encryption, compact = false, live = false }: { encryption: CallEncryption; compact?: boolean; live?: boolean }) {
  const t = useT();
  const text = callLockText(encryption, t, live);
  if (!text) return null;
  const icon = <Icon name={text.state === 'encrypted' ? 'lock' : 'lock-open'} />;
  if (compact) {
    return (
      <span className={`call-lock compact lock-${text.state}`} role="img" aria-label={text.label} title={text.label} data-lock={text.state}>
        {icon}
      </span>
    );
  }
  return (
    <section className={`call-lock lock-${text.state}`} aria-label={text.label} data-lock={text.state}>
      <p className="lock-summary">
        {icon}
        <strong>{text.summary}</strong>
      </p>
      <dl className="lock-details">
        <dt>{t('lockSignaling')}</dt>
        <dd className="lock-signaling">{text.signaling}</dd>
        {text.fingerprint !== undefined && (
          <>
            <dt>{t('lockFingerprint')}</dt>
            <dd>
              <code className="lock-fingerprint">{text.fingerprint}</code>
            </dd>
          </>
        )}
        <dt>{t('lockMedia')}</dt>
        <dd className="lock-media">{text.media}</dd>
      </dl>
    </section>
  );
}
