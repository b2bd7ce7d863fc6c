import { useEffect, useRef, useState } from 'react';
import { callbackTarget } from '../../core/api/callback-target.js';
import { loggedCallEncryption } from '../../core/api/call-encryption.js';
import type { CallLogEntry } from '../../core/api/call-log-types.js';
import { callResults } from '../../core/api/history-query.js';
import { virtualWindow } from '../../core/api/virtual-window.js';
import { plural } from '../i18n/strings.js';
import { emptySearch, useHistory, type HistorySearch } from '../store/history-store.js';
import { usePhone } from '../store/phone-store.js';
import { CallLock } from './CallLock.js';
import { AddContactButton } from './Contacts.js';
import { useT } from './use-t.js';

/** Fixed row height (two lines): the list renders only the rows in view (a log of 100,000 calls stays quick). */
const rowHeight = 54;

/** A call's length as the history shows it: 0:42, 12:05, 1:02:03. */
export function callDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** When a call started: the time alone for today's calls, a short date and time for older ones. */
function startedText(at: number, language: string, now = Date.now()): string {
  const started = new Date(at);
  const sameDay = new Date(now).toDateString() === started.toDateString();
  return sameDay ? started.toLocaleTimeString(language, { timeStyle: 'short' }) : started.toLocaleString(language, { dateStyle: 'short', timeStyle: 'short' });
}

/**
 * The search fields: the same ones `veilphone logs list` takes, read the same way (core/api/history-query.ts). A
 * narrow window shows the number field and folds the others behind a Filters button.
 */
function HistorySearchBar({ narrow }: { narrow: boolean }) {
  const t = useT();
  const [filtersOpen, setFiltersOpen] = useState(false);
  const folded = narrow && !filtersOpen;
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
    <form className={`history-search${folded ? ' folded' : ''}`} role="search" aria-label={t('search')} onSubmit={(event) => event.preventDefault()}>
      {text('number', t('searchNumber'))}
      {narrow && (
        <button type="button" className="filters-toggle" aria-expanded={filtersOpen} aria-controls="history-filters" onClick={() => setFiltersOpen(!filtersOpen)}>
          {t('moreFilters')}
        </button>
      )}
      <div className="history-filters" id="history-filters" hidden={folded}>
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
      </div>
      {searchError && (
        <p className="error" role="alert">
          {t(`error_${searchError.code}`)}
        </p>
      )}
    </form>
  );
}

/** Where a call was forwarded, as a row has room for: the user of a SIP URI ("carol"), or the URI itself. */
export function forwardTargetShown(uri: string): string {
  const user = /^sips?:([^@;?]+)@/i.exec(uri)?.[1];
  return user !== undefined ? decodeURIComponent(user) : uri;
}

function HistoryRow({ call, top }: { call: CallLogEntry; top: number }) {
  const t = useT();
  const language = usePhone((s) => s.language);
  const setDialString = usePhone((s) => s.setDialString);
  const setView = usePhone((s) => s.setView);
  const select = useHistory((s) => s.select);
  const selected = useHistory((s) => s.selectedId === call.id);
  const party = call.remoteAnonymous ? t('anonymous') : call.remoteShown;
  const withheld = call.direction === 'outgoing' && (call.anonymity === 'prefix' || call.anonymity === 'header') ? call.anonymity : undefined;
  return (
    <li className={`history-entry ${call.result}${selected ? ' selected' : ''}`} style={{ top, height: rowHeight }} data-call={call.id}>
      <span className="direction" aria-label={t(`direction_${call.direction}`)}>
        {call.direction === 'incoming' ? '↙' : '↗'}
      </span>
      <button type="button" className="party" aria-label={`${t('openDiagnostics')} ${party}`} onClick={() => void select(call.id)}>
        <bdi>{party}</bdi>
      </button>
      <span className="row-facts">
        <span className="result">{call.result === 'forwarded' && call.forwardedTo !== undefined ? t('forwardedTo').replace('{target}', forwardTargetShown(call.forwardedTo)) : t(`result_${call.result}`)}</span>
        {call.durationMs !== undefined && call.answeredAt !== undefined && (
          <span className="duration" title={t('duration')}>
            {callDuration(call.durationMs)}
          </span>
        )}
        {call.status !== undefined && (
          <span className="sip-status" title={t('sipStatus')}>
            {call.status}
          </span>
        )}
        <CallLock encryption={loggedCallEncryption(call)} compact />
        {withheld && (
          <span className={`anonymity-badge ${withheld}`} title={t(`anonymity_${withheld}`)}>
            {t(`badge_${withheld}`)}
          </span>
        )}
      </span>
      <time dateTime={new Date(call.startedAt).toISOString()} title={new Date(call.startedAt).toLocaleString(language)}>
        {startedText(call.startedAt, language)}
      </time>
      {!call.remoteAnonymous && call.remoteUser !== undefined ? (
        <span className="history-actions">
          <button
            type="button"
            className="redial"
            aria-label={`${t('call')} ${call.remoteShown}`}
            onClick={() => {
              setDialString(callbackTarget(call));
              setView('phone');
            }}
          >
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
export function History({ narrow = false }: { narrow?: boolean }) {
  const t = useT();
  const language = usePhone((s) => s.language);
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
      <HistorySearchBar narrow={narrow} />
      <p className="history-count" aria-live="polite">
        {rows.length === 0 && !loading ? t('noMatch') : `${plural(language, 'callsLoaded', rows.length)}${next ? ` · ${t('moreOnScroll')}` : ''}`}
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
