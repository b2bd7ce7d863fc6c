import type { CallLogFilter } from '../api/call-log-types.js';
import { searchedColumns } from './schema.js';

/** The trigram index answers substrings of 3 characters or more; shorter ones fall back to LIKE. */
const minIndexedSearch = 3;
/**
 * Above this many index hits, walking the calls newest first and testing each (LIKE) finds a page sooner than
 * fetching and sorting every hit; below it, the index hits are the cheaper set to sort.
 */
export const indexedSearchLimit = 5000;

/** How a number search runs: through the trigram index, or as a scan in time order (see indexedSearchLimit). */
export type NumberStrategy = 'index' | 'scan';

/** The FTS5 phrase for a substring: double quotes inside are doubled; with the trigram tokenizer a phrase matches any substring. */
export function searchPhrase(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** The number search can use the trigram index (3 characters or more). */
export function indexableSearch(text: string | undefined): text is string {
  return text !== undefined && [...text.trim()].length >= minIndexedSearch;
}
export const maxPageSize = 1000;
export const defaultPageSize = 50;

export interface CallQuery {
  sql: string;
  args: unknown[];
  limit: number;
}

/**
 * The SQL for one page of calls, newest first (started_at, then id, so equal start times page stably). Every filter
 * is a bound parameter; user text never becomes SQL.
 */
export function buildCallQuery(filter: CallLogFilter = {}, numberStrategy: NumberStrategy = 'index'): CallQuery {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, ...values: unknown[]): void => {
    where.push(clause);
    args.push(...values);
  };
  const number = filter.number?.trim();
  if (number !== undefined && number.length > 0) {
    if (numberStrategy === 'index' && indexableSearch(number)) {
      add('n IN (SELECT rowid FROM calls_search WHERE calls_search MATCH ?)', searchPhrase(number));
    } else {
      const like = `%${number.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      add(`(${searchedColumns.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`, ...searchedColumns.map(() => like));
    }
  }
  if (filter.sipCallId !== undefined) add('sip_call_id = ?', filter.sipCallId);
  if (filter.since !== undefined) add('started_at >= ?', filter.since);
  if (filter.until !== undefined) add('started_at <= ?', filter.until);
  if (filter.result !== undefined) {
    const results = Array.isArray(filter.result) ? filter.result : [filter.result];
    if (results.length > 0) add(`result IN (${results.map(() => '?').join(', ')})`, ...results);
  }
  if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.direction !== undefined) add('direction = ?', filter.direction);
  if (filter.accountId !== undefined) add('account_id = ?', filter.accountId);
  if (filter.anonymous !== undefined) {
    add(filter.anonymous ? "(remote_anonymous = 1 OR (anonymity IS NOT NULL AND anonymity <> 'none'))" : "(remote_anonymous = 0 AND (anonymity IS NULL OR anonymity = 'none'))");
  }
  if (filter.before !== undefined) add('(started_at < ? OR (started_at = ? AND id < ?))', filter.before.startedAt, filter.before.startedAt, filter.before.id);
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? defaultPageSize), 1), maxPageSize);
  const sql = `SELECT * FROM calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
  return { sql, args: [...args, limit + 1], limit };
}
