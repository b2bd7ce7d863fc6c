import type { ProxyFailureReading } from '../../core/api/signature-types.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/**
 * SPEC E / seed 002 ¶[0026]: the signing proxy's failure counters as the phone read them when the call was shown —
 * messages dropped in all, by signature family and by verdict, the last second against the alert threshold, and the
 * alerts raised — or why they could not be read.
 */
export function SigningProxyCounters({ reading }: { reading: ProxyFailureReading }) {
  const t = useT();
  const language = usePhone((s) => s.language);
  const time = (at: number): string => new Date(at).toLocaleTimeString(language);
  if ('problem' in reading) {
    return (
      <section className="proxy-failures" aria-label={t('proxyFailures')}>
        <h3>{t('proxyFailures')}</h3>
        <p className="error">
          {t('proxy_unreadable')} ({reading.from}): {reading.problem}
        </p>
      </section>
    );
  }
  const { counters } = reading;
  const listed = (values: Record<string, number | undefined>, prefix?: string): string =>
    Object.entries(values)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([key, n]) => `${prefix ? t(`${prefix}${key}`) : key} ${n}`)
      .join(', ') || '—';
  return (
    <section className={`proxy-failures${counters.alerting ? ' alerting' : ''}`} aria-label={t('proxyFailures')}>
      <h3>{t('proxyFailures')}</h3>
      <p className="hint">
        {reading.from}, {t('proxy_readAt')} {time(reading.readAt)}
      </p>
      {counters.alerting && (
        <p className="error" role="alert">
          {t('proxy_alerting')}
        </p>
      )}
      <dl className="call-facts">
        <div data-proxy="total">
          <dt>{t('proxy_total')}</dt>
          <dd>{counters.total}</dd>
        </div>
        <div data-proxy="byFamily">
          <dt>{t('proxy_byFamily')}</dt>
          <dd>{listed(counters.byFamily)}</dd>
        </div>
        <div data-proxy="byVerdict">
          <dt>{t('proxy_byVerdict')}</dt>
          <dd>{listed(counters.byVerdict, 'verdict_')}</dd>
        </div>
        <div data-proxy="rate">
          <dt>{t('proxy_rate')}</dt>
          <dd>
            {counters.perSecond} / {counters.threshold}
          </dd>
        </div>
        <div data-proxy="peak">
          <dt>{t('proxy_peak')}</dt>
          <dd>{counters.peakPerSecond}</dd>
        </div>
      </dl>
      <h4>{t('proxy_alerts')}</h4>
      {counters.alerts.length === 0 ? (
        <p>{t('proxy_noAlerts')}</p>
      ) : (
        <ul className="proxy-alerts">
          {counters.alerts.map((alert) => (
            <li key={`${alert.at}-${alert.last.message}`}>
              {time(alert.at)}: {alert.perSecond} / {alert.threshold} — {alert.last.family} {t(`verdict_${alert.last.verdict}`)}: {alert.last.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
