import type { CallLogFilter, CallResult } from './call-log-types.js';

/** Every result a call can have, in the order a filter menu lists them. */
export const callResults: readonly CallResult[] = ['answered', 'answered-elsewhere', 'forwarded', 'missed', 'rejected', 'busy', 'cancelled', 'failed', 'interrupted', 'in-progress'];

/**
 * A history search as people type it — in `veilphone logs list` options or the history view's fields: times as
 * ISO dates, ages (`2h`, `3d`, `1h30m`) or `now`/`today`/`yesterday`; results comma-separated.
 */
export interface HistoryQuery {
  since?: string;
  until?: string;
  number?: string;
  callId?: string;
  result?: string | readonly string[];
  status?: string;
  direction?: string;
  account?: string;
  anonymous?: boolean;
}

export class HistoryQueryError extends Error {
  override readonly name = 'HistoryQueryError';
  constructor(
    readonly code: 'INVALID_TIME' | 'INVALID_ARGUMENT',
    message: string,
  ) {
    super(message);
  }
}

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `2h` (that long ago; `1h30m` too), `now`, `today` and `yesterday` (local midnight), `2026-11-24` or
 * `2026-11-24T10:00:00Z`, as milliseconds since the epoch.
 */
export function parseHistoryTime(text: string, now = Date.now()): number {
  const value = text.trim().toLowerCase();
  if (value === 'now') return now;
  if (value === 'today' || value === 'yesterday') {
    const midnight = new Date(now);
    midnight.setHours(0, 0, 0, 0);
    if (value === 'yesterday') midnight.setDate(midnight.getDate() - 1);
    return midnight.getTime();
  }
  if (/^(\d{1,6}[smhdw])+$/.test(value)) {
    let ago = 0;
    for (const [, count, unit] of value.matchAll(/(\d{1,6})([smhdw])/g)) ago += Number(count) * units[unit!]!;
    return now - ago;
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text.trim())) {
    const at = Date.parse(text.trim());
    if (Number.isFinite(at)) return at;
  }
  throw new HistoryQueryError('INVALID_TIME', `"${text}" is neither a time like 2026-11-24T10:00:00Z nor an age like 30m, 2h, 7d (or now, today, yesterday)`);
}

/** The CallLogFilter a query means; empty fields are no filter. Throws HistoryQueryError for what cannot be read. */
export function historyFilter(query: HistoryQuery, now = Date.now()): CallLogFilter {
  const filter: CallLogFilter = {};
  const text = (value: string | undefined): string | undefined => (value !== undefined && value.trim().length > 0 ? value.trim() : undefined);
  const since = text(query.since);
  const until = text(query.until);
  if (since !== undefined) filter.since = parseHistoryTime(since, now);
  if (until !== undefined) filter.until = parseHistoryTime(until, now);
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) throw new HistoryQueryError('INVALID_TIME', 'the start of the time range is after its end');
  const number = text(query.number);
  if (number !== undefined) {
    if (number.length > 128) throw new HistoryQueryError('INVALID_ARGUMENT', 'the number or user is longer than 128 characters');
    filter.number = number;
  }
  const callId = text(query.callId);
  if (callId !== undefined) filter.sipCallId = callId;
  const account = text(query.account);
  if (account !== undefined) filter.accountId = account;
  if (query.result !== undefined) {
    const wanted = (typeof query.result === 'string' ? query.result.split(',') : [...query.result]).map((r) => r.trim()).filter((r) => r.length > 0);
    const unknown = wanted.filter((r) => !(callResults as readonly string[]).includes(r));
    if (unknown.length > 0) throw new HistoryQueryError('INVALID_ARGUMENT', `result must be one or more (comma-separated) of ${callResults.join(', ')}`);
    if (wanted.length === 1) filter.result = wanted[0] as CallResult;
    else if (wanted.length > 1) filter.result = wanted as CallResult[];
  }
  const status = text(query.status);
  if (status !== undefined) {
    if (!/^[1-6]\d\d$/.test(status)) throw new HistoryQueryError('INVALID_ARGUMENT', 'status must be a SIP status code (100-699)');
    filter.status = Number(status);
  }
  const direction = text(query.direction);
  if (direction !== undefined) {
    if (direction !== 'incoming' && direction !== 'outgoing') throw new HistoryQueryError('INVALID_ARGUMENT', 'direction must be incoming or outgoing');
    filter.direction = direction;
  }
  if (query.anonymous) filter.anonymous = true;
  return filter;
}
