import { useEffect, useRef, useState } from 'react';
import type { CallLogEntry } from '../../core/api/call-log-types.js';
import { callResults } from '../../core/api/history-query.js';
import { virtualWindow } from '../../core/api/virtual-window.js';
import { emptySearch, useHistory, type HistorySearch } from '../store/history-store.js';
import { usePhone } from '../store/phone-store.js';
import { AddContactButton } from './Contacts.js';
import { useT } from './use-t.js';

/** Fixed row height: the list renders only the rows in view (a log of 100,000 calls stays quick). */
const rowHeight = 44;

/** The search fields: the same ones `veilphone logs list` takes, read the same way (core/api/history-query.ts). */
function HistorySearchBar() {
  const t = useT();
  const search = useHistory((s) => s.search);
  const setSearch = useHistory((s) => s.setSearch);
  const searchError = useHistory((s) => s.searchError);
  // Text fields search as the user pauses typing, not on every key; the draft is theirs until Clear.
  const [draft, setDraft] = useState<HistorySearch>(search);
  useEffect(() => {
    const changed = (['number', 'callId', 'since', 'until', 'status'] as const).filter((key) => draft[key] !== search[key]);
    if (changed.length === 0) return;
    const timer = setTimeout(() => setSearch(Object.fromEntries(changed.map((key) => [key, draft[key]]))), 250);
    return () => clearTimeout(timer);
  }, [draft, search, setSearch]);
  const text = (key: 'number' | 'callId' | 'since' | 'until' | 'status', label: string, placeholder?: string) => (
    <label className={`search-${key}`}>
      <span>{label}</span>
      <input type="search" value={draft[key]} placeholder={placeholder} spellCheck={false} autoComplete="off" onChange={(event) => setDraft({ ...draft, [key]: event.target.value })} />
    </label>
  );
  return (
    <form className="history-search" role="search" aria-label={t('search')} onSubmit={(event) => event.preventDefault()}>
      {text('number', t('searchNumber'))}
      {text('callId', t('searchCallId'))}
      {text('since', t('searchSince'), t('timeHint'))}
      {text('until', t('searchUntil'), t('timeHint'))}
      <label>
        <span>{t('searchResult')}</span>
        <select value={search.result} onChange={(event) => setSearch({ result: event.target.value })}>
          <option value="">{t('anyResult')}</option>
          {callResults.map((result) => (
            <option key={result} value={result}>
              {t(`result_${result}`)}
            </option>
          ))}
        </select>
      </label>
      {text('status', t('searchStatus'), '486')}
      <label>
        <span>{t('searchDirection')}</span>
        <select value={search.direction} onChange={(event) => setSearch({ direction: event.target.value })}>
          <option value="">{t('anyDirection')}</option>
          <option value="outgoing">{t('direction_outgoing')}</option>
          <option value="incoming">{t('direction_incoming')}</option>
        </select>
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={search.anonymous} onChange={(event) => setSearch({ anonymous: event.target.checked })} />
        <span>{t('onlyAnonymous')}</span>
      </label>
      <button
        type="button"
        onClick={() => {
          setDraft(emptySearch);
          setSearch(emptySearch);
        }}
      >
        {t('clearSearch')}
      </button>
      {searchError && (
        <p className="error" role="alert">
          {t(`error_${searchError.code}`)}
        </p>
      )}
    </form>
  );
}

function HistoryRow({ call, top }: { call: CallLogEntry; top: number }) {
  const t = useT();
  const language = usePhone((s) => s.language);
  const setDialString = usePhone((s) => s.setDialString);
  const select = useHistory((s) => s.select);
  const selected = useHistory((s) => s.selectedId === call.id);
  const party = call.remoteAnonymous ? t('anonymous') : call.remoteShown;
  return (
    <li className={`history-entry ${call.result}${selected ? ' selected' : ''}`} style={{ top, height: rowHeight }} data-call={call.id}>
      <span className="direction" aria-label={t(`direction_${call.direction}`)}>
        {call.direction === 'incoming' ? '↙' : '↗'}
      </span>
      <button type="button" className="party" aria-label={`${t('openDiagnostics')} ${party}`} onClick={() => void select(call.id)}>
        {party}
      </button>
      <span className="result">{t(`result_${call.result}`)}</span>
      <time dateTime={new Date(call.startedAt).toISOString()}>{new Date(call.startedAt).toLocaleString(language)}</time>
      {!call.remoteAnonymous && call.remoteUser !== undefined ? (
        <span className="history-actions">
          <button type="button" className="redial" aria-label={`${t('call')} ${call.remoteShown}`} onClick={() => setDialString(call.remoteUser ?? '')}>
            ↻
          </button>
          <AddContactButton call={call} />
        </span>
      ) : (
        <span />
      )}
    </li>
  );
}

/** Recent calls, searchable; only the rows in view are in the DOM, and the next page loads near the end. */
export function History() {
  const t = useT();
  const rows = useHistory((s) => s.rows);
  const next = useHistory((s) => s.next);
  const loading = useHistory((s) => s.loading);
  const loadMore = useHistory((s) => s.loadMore);
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ scrollTop: 0, height: 600 });

  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const measure = (): void => setView({ scrollTop: element.scrollTop, height: element.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const visible = virtualWindow({ scrollTop: view.scrollTop, viewportHeight: view.height, rowHeight, rowCount: rows.length });
  useEffect(() => {
    if (visible.wantsMore && next && !loading) void loadMore();
  }, [visible.wantsMore, next, loading, loadMore]);

  return (
    <section className="history" aria-label={t('history')}>
      <h2>{t('history')}</h2>
      <HistorySearchBar />
      <p className="history-count" aria-live="polite">
        {rows.length === 0 && !loading ? t('noMatch') : `${t('callsLoaded').replace('{n}', String(rows.length))}${next ? ` · ${t('moreOnScroll')}` : ''}`}
        {loading && ` · ${t('loadingMore')}`}
      </p>
      <div className="history-scroll" ref={scroller} onScroll={(event) => setView({ scrollTop: event.currentTarget.scrollTop, height: event.currentTarget.clientHeight })}>
        <ul className="history-rows" style={{ height: visible.totalHeight }}>
          {rows.slice(visible.start, visible.end).map((call, index) => (
            <HistoryRow key={call.id} call={call} top={(visible.start + index) * rowHeight} />
          ))}
        </ul>
      </div>
    </section>
  );
}
