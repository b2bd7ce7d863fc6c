import type { CallLogEntry } from '../api/call-log-types.js';
import { shownName, shownReason } from '../privacy/shown-name.js';

/** The longest name the log keeps, in characters as a reader counts them (privacy/shown-name.ts). */
const maxLoggedName = 256;

type NetworkWords = Pick<CallLogEntry, 'remoteShown' | 'reason' | 'redirects'>;

/**
 * The fields of a call-log row that hold another party's words (its display name, the reason phrases of its final
 * response and of the redirections followed), kept as they are shown: what the history shows is what a search finds,
 * and no control or invisible character reaches these columns. The raw words stay in the call's message trace, for
 * support staff (and rows rewritten by schema migration 8 may leave theirs in free pages: they are no secret).
 */
export function cleanedNetworkWords<T extends Partial<NetworkWords>>(fields: T): T {
  const out = { ...fields };
  if (typeof fields.remoteShown === 'string') out.remoteShown = shownName(fields.remoteShown, maxLoggedName);
  if (typeof fields.reason === 'string') out.reason = shownReason(fields.reason);
  if (fields.redirects) out.redirects = fields.redirects.map((redirect) => (redirect.reason !== undefined ? { ...redirect, reason: shownReason(redirect.reason) } : redirect));
  return out;
}
