import { parseSipMessage } from '../sip/message/index.js';

/** What would give the caller away: their user name, display name, domain and host names. */
export interface CallerFingerprint {
  user: string;
  displayName?: string;
  domain?: string;
  hostNames?: string[];
}

export interface IdentityLeak {
  /** `Request-URI`, a header name (`From`, `User-Agent` …), or an SDP line (`SDP o=`). */
  where: string;
  /** Which part of the fingerprint appeared there. */
  found: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Every place in a raw SIP message where the caller's identity shows, as a whole word, case-insensitively: the
 * start line, each header (bar the ones `allowedHeaders` names, such as P-Preferred-Identity toward a trusted proxy),
 * and each SDP line. An anonymous call must come out of this with nothing (SPEC A; issue: "check User-Agent,
 * Call-ID, tags, Via branch, SDP o=/s=").
 */
export function findIdentityLeaks(raw: string, who: CallerFingerprint, allowedHeaders: readonly string[] = []): IdentityLeak[] {
  const needles = [
    ['user', who.user],
    ['display name', who.displayName],
    ['domain', who.domain],
    ...(who.hostNames ?? []).map((h) => ['host name', h] as const),
  ].filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1].trim().length > 0);
  const patterns = needles.map(([kind, text]) => ({ kind, text, pattern: new RegExp(`(^|[^A-Za-z0-9])${escape(text.trim())}(?![A-Za-z0-9])`, 'i') }));
  const allowed = new Set(allowedHeaders.map((h) => h.toLowerCase()));
  const message = parseSipMessage(raw);
  const places: Array<[string, string]> = [[message.kind === 'request' ? 'Request-URI' : 'Status line', message.startLine()]];
  for (const header of message.headers) if (!allowed.has(header.name.toLowerCase())) places.push([header.name, header.value]);
  for (const line of message.body.split(/\r?\n/)) if (/^[a-z]=/.test(line)) places.push([`SDP ${line.slice(0, 2)}`, line.slice(2)]);
  const leaks: IdentityLeak[] = [];
  for (const [where, text] of places) {
    for (const { kind, text: needle, pattern } of patterns) if (pattern.test(text)) leaks.push({ where, found: `${kind} "${needle}"` });
  }
  return leaks;
}
