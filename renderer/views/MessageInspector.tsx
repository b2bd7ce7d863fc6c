import type { TraceMessage } from '../../core/api/call-log-types.js';
import { splitInvisibles } from '../../core/api/invisible-characters.js';
import { formatOffset } from '../../core/api/ladder.js';
import { traceSignatures } from '../../core/api/signature-view.js';
import { signedHeaderSpans, splitBySpans } from '../../core/api/signed-header-spans.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/** Raw text with each invisible character shown by its code point, marked (core/api/invisible-characters.ts). */
function Visible({ text }: { text: string }) {
  return splitInvisibles(text).map((piece, index) =>
    piece.invisible ? (
      <span key={index} className="invisible-char" title={piece.invisible}>
        ⟨{piece.invisible}⟩
      </span>
    ) : (
      piece.text
    ),
  );
}

/**
 * One message in full: where it went and when, its decoded routing-header signatures (kind, key id, algorithm, what
 * is covered, verdict) when the message carries them, and its raw text with signature-like Via, Record-Route and
 * Route parameters highlighted and every invisible character shown by its code point.
 */
export function MessageInspector({ message, startedAt }: { message: TraceMessage; startedAt: number }) {
  const t = useT();
  const language = usePhone((s) => s.language);
  const signatures = traceSignatures(message);
  const spans = signedHeaderSpans(message.raw);
  const [from, to] = message.dir === 'out' ? [message.local, message.remote] : [message.remote, message.local];
  return (
    <section className="message-inspector" aria-label={t('message')}>
      <h4>
        #{message.seq} · {t(`dir_${message.dir}`)} · {message.transport.toUpperCase()} {from} → {to} · {formatOffset(message.at - startedAt)} ·{' '}
        <time dateTime={new Date(message.at).toISOString()}>{new Date(message.at).toLocaleString(language)}</time>
      </h4>
      {message.refused !== undefined && (
        <p className="message-refused" role="note">
          {t('refusedMessage')} <code>{message.refused}</code>
        </p>
      )}
      <h5>{t('signatures')}</h5>
      {signatures.length === 0 ? (
        <p className="no-signatures">{t('noSignatures')}</p>
      ) : (
        <table className="signatures">
          <thead>
            <tr>
              <th>{t('sig_kind')}</th>
              <th>{t('sig_key')}</th>
              <th>{t('sig_alg')}</th>
              <th>{t('sig_covered')}</th>
              <th>{t('sig_verdict')}</th>
            </tr>
          </thead>
          <tbody>
            {signatures.map((signature, index) => (
              <tr key={index} className={`verdict-${signature.verdict ?? 'none'}`}>
                <td>
                  {signature.kind}
                  {signature.header ? ` (${signature.header}${signature.param ? `;${signature.param}` : ''})` : ''}
                </td>
                <td>{signature.keyId ?? '—'}</td>
                <td>{signature.algorithm ?? '—'}</td>
                <td>{signature.covered.join(', ') || '—'}</td>
                <td className="verdict">{signature.verdict ? t(`verdict_${signature.verdict}`) : t('notVerified')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {spans.length > 0 && <p className="signed-params">{t('signedParams')}</p>}
      <pre className="raw-message">
        {splitBySpans(message.raw, spans).map((piece, index) =>
          piece.span ? (
            <mark key={index} className="signed-param" title={`${piece.span.header} ${piece.span.name}`}>
              <Visible text={piece.text} />
            </mark>
          ) : (
            <span key={index}>
              <Visible text={piece.text} />
            </span>
          ),
        )}
      </pre>
    </section>
  );
}
