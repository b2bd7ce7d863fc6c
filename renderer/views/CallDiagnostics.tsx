import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { CallLogDetail, CallLogExportFormat } from '../../core/api/call-log-types.js';
import { callEndpoints } from '../../core/api/call-endpoints.js';
import { loggedCallEncryption } from '../../core/api/call-encryption.js';
import { useHistory } from '../store/history-store.js';
import { usePhone } from '../store/phone-store.js';
import { CallLock } from './CallLock.js';
import { LadderDiagram } from './LadderDiagram.js';
import { MessageInspector } from './MessageInspector.js';
import { saveFile } from './save-file.js';
import { SigningProxyCounters } from './SigningProxyCounters.js';
import { useT } from './use-t.js';

function durationOf(call: CallLogDetail): string | undefined {
  if (call.answeredAt === undefined || call.durationMs === undefined) return undefined;
  const seconds = Math.round(call.durationMs / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}` : `${seconds}s`;
}

/** What the log knows of one call; the network's words (the party, the reason phrase) each in an isolate (<bdi>). */
export function CallFacts({ call }: { call: CallLogDetail }) {
  const t = useT();
  const language = usePhone((s) => s.language);
  const time = (at: number | undefined): string | undefined => (at === undefined ? undefined : new Date(at).toLocaleString(language));
  const result = (
    <>
      {t(`result_${call.result}`)}
      {call.status !== undefined && ` · ${call.status}`}
      {call.status !== undefined && call.reason && (
        <>
          {' '}
          <bdi>{call.reason}</bdi>
        </>
      )}
    </>
  );
  const facts: Array<[string, ReactNode | undefined]> = [
    ['fact_callId', call.sipCallId],
    ['fact_account', call.accountId],
    ['fact_direction', t(`direction_${call.direction}`)],
    ['fact_party', <bdi>{call.remoteAnonymous ? t('anonymous') : call.remoteShown}</bdi>],
    ['fact_uri', call.remoteUri],
    ['fact_dialed', call.dialed],
    ['fact_sentFrom', call.sentFrom],
    ['fact_sentTo', call.sentTo],
    ['fact_sentRequestUri', call.sentRequestUri],
    ['fact_anonymity', call.anonymity !== undefined ? t(`anonymity_${call.anonymity}`) : undefined],
    ['fact_localAddress', call.localAddress],
    ['fact_localSip', call.localSip !== undefined ? `${call.localSip}${call.transport ? ` (${call.transport.toUpperCase()})` : ''}` : undefined],
    ['fact_remoteSip', call.remoteSip],
    ['fact_rtp', call.localRtp !== undefined ? `${call.localRtp} ↔ ${call.remoteRtp ?? '—'}` : undefined],
    ['fact_codec', call.codec],
    ['fact_ports', call.ports ? `${call.ports.min}–${call.ports.max}` : undefined],
    ['fact_lease', call.lease],
    ['fact_started', time(call.startedAt)],
    ['fact_answered', time(call.answeredAt)],
    ['fact_ended', time(call.endedAt)],
    ['fact_duration', durationOf(call)],
    ['fact_result', result],
    ['fact_endedBy', call.endedBy !== undefined ? t(`endedBy_${call.endedBy}`) : undefined],
    ['fact_endCause', call.endCause?.kind === 'no-media' ? t('failure_media-lost').replace('{seconds}', String(call.endCause.seconds)) : call.endCause ? t('failure_session-expired') : undefined],
  ];
  return (
    <dl className="call-facts">
      {facts
        .filter((fact): fact is [string, ReactNode] => fact[1] !== undefined)
        .map(([key, value]) => (
          <div key={key} data-fact={key}>
            <dt>{t(key)}</dt>
            <dd>{value}</dd>
          </div>
        ))}
    </dl>
  );
}

function Endpoints({ call }: { call: CallLogDetail }) {
  const t = useT();
  const rows = callEndpoints(call);
  return (
    <table className="endpoints" aria-label={t('endpoints')}>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.side}-${row.kind}-${row.endpoint}-${row.transport}`} className={row.side}>
            <th scope="row">{t(`side_${row.side}`)}</th>
            <td>{row.kind.toUpperCase()}</td>
            <td className="endpoint">{row.endpoint}</td>
            <td>{row.transport.toUpperCase()}</td>
            <td>{row.note}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The diagnostics pane for one logged call: its facts, the addresses and ports each side used, the ladder of its SIP
 * messages, the selected message in full with its signed headers, and exports to JSON and pcap.
 */
export function CallDiagnostics() {
  const t = useT();
  const selectedId = useHistory((s) => s.selectedId);
  const detail = useHistory((s) => s.detail);
  const detailError = useHistory((s) => s.detailError);
  const exporting = useHistory((s) => s.exporting);
  const select = useHistory((s) => s.select);
  const exportCalls = useHistory((s) => s.exportCalls);
  const [seq, setSeq] = useState<number | undefined>(undefined);
  const closeButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    setSeq(undefined);
    if (selectedId === undefined) return;
    closeButton.current?.focus();
    // Esc closes the pane wherever the focus is; caught before the app's own Esc (hang up) sees it.
    const onKey = (event: KeyboardEvent): void => {
      if (event.key !== 'Escape') return;
      event.stopPropagation();
      void select(undefined);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [selectedId, select]);
  if (selectedId === undefined) return null;

  const close = (): void => void select(undefined);
  const exportAs = async (format: CallLogExportFormat): Promise<void> => {
    const file = await exportCalls([selectedId], format);
    if (file) saveFile(file);
  };
  const message = detail?.messages.find((m) => m.seq === seq);
  const locals = new Set(detail?.messages.map((m) => m.local) ?? []);
  return (
    <div className="diagnostics-backdrop">
      <section className="diagnostics" role="dialog" aria-modal="true" aria-label={t('diagnostics')}>
        <header>
          <h2>
            {t('diagnostics')}
            {detail && (
              <>
                {': '}
                <bdi>{detail.remoteAnonymous ? t('anonymous') : detail.remoteShown}</bdi>
              </>
            )}
          </h2>
          <div className="diagnostics-actions">
            <button type="button" disabled={!detail || exporting !== undefined} onClick={() => void exportAs('json')}>
              {exporting === 'json' ? t('exporting') : t('exportJson')}
            </button>
            <button type="button" disabled={!detail || exporting !== undefined} onClick={() => void exportAs('pcap')}>
              {exporting === 'pcap' ? t('exporting') : t('exportPcap')}
            </button>
            <button type="button" ref={closeButton} onClick={close} aria-label={t('close')}>
              ×
            </button>
          </div>
        </header>
        {detailError && (
          <p className="error" role="alert">
            {t(`error_${detailError.code}`)} <small>({detailError.message})</small>
          </p>
        )}
        {!detail && !detailError && <p>{t('loadingCall')}</p>}
        {detail && (
          <div className="diagnostics-body">
            <div className="diagnostics-facts">
              <CallLock encryption={loggedCallEncryption(detail)} />
              <CallFacts call={detail} />
              <h3>{t('endpoints')}</h3>
              <Endpoints call={detail} />
              {detail.signingProxy && <SigningProxyCounters reading={detail.signingProxy} />}
            </div>
            <div className="diagnostics-flow">
              <h3>{t('ladder')}</h3>
              {detail.messages.length === 0 ? (
                <p>{t('noMessages')}</p>
              ) : (
                <div className="ladder-scroll">
                  <LadderDiagram messages={detail.messages} localEndpoints={locals} {...(seq !== undefined ? { selected: seq } : {})} onSelect={setSeq} />
                </div>
              )}
              {message ? <MessageInspector message={message} startedAt={detail.messages[0]!.at} /> : detail.messages.length > 0 && <p className="hint">{t('pickMessage')}</p>}
            </div>
          </div>
        )}
      </section>
    </div>
  );
}
