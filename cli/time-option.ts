import { parseHistoryTime } from '../core/api/history-query.js';

/** `--since`/`--until` values: the same forms the history view reads (core/api/history-query.ts). */
export function parseTimeOption(text: string, now = Date.now()): number {
  return parseHistoryTime(text, now);
}
