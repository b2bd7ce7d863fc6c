import { parseSipMessage } from '../sip/message/index.js';
import { findIpLiterals, normalizeIp } from './ip-literals.js';

/**
 * What would give the caller away (issue 4, "Proof that nothing leaks"): their user name, display name, domain and
 * host names; their lasting addresses; and the identifiers of their user agent — `+sip.instance`, GRUUs, an instance
 * id in User-Agent, the Contact of another of their identities. Build one from a caller's own trace with
 * `fingerprintCaller`.
 */
export interface CallerFingerprint {
  user: string;
  displayName?: string;
  domain?: string;
  hostNames?: string[];
  /** IPv4/IPv6 addresses of the caller that this call must not show (a per-call one-time address is not one). */
  addresses?: string[];
  /** Opaque identifiers of the caller's user agent, matched anywhere (case-insensitive); 8 characters at least. */
  instanceIds?: string[];
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

/** Identifiers shorter than this could turn up by chance inside random tokens (tags, branches, Call-IDs). */
const minimumInstanceIdLength = 8;

/**
 * Every place in a raw SIP message where the caller's identity shows: names as whole words, case-insensitively;
 * addresses by value (raw, bracketed, any IPv6 spelling); instance ids anywhere. Places are the start line, each
 * header (bar the ones `allowedHeaders` names, such as P-Preferred-Identity toward a trusted proxy), and each body
 * line. An anonymous call must come out of this with nothing (SPEC A; issue 4: "check User-Agent, Call-ID, tags, Via
 * branch, SDP o=/s=").
 */
export function findIdentityLeaks(raw: string, who: CallerFingerprint, allowedHeaders: readonly string[] = []): IdentityLeak[] {
  const needles = [
    ['user', who.user],
    ['display name', who.displayName],
    ['domain', who.domain],
    ...(who.hostNames ?? []).map((h) => ['host name', h] as const),
  ].filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1].trim().length > 0);
  const patterns = needles.map(([kind, text]) => ({ kind, text, pattern: new RegExp(`(^|[^A-Za-z0-9])${escape(text.trim())}(?![A-Za-z0-9])`, 'i') }));
  const addresses = new Map<string, string>();
  for (const address of who.addresses ?? []) {
    const canonical = normalizeIp(address);
    if (canonical !== undefined) addresses.set(canonical, address);
  }
  const instanceIds = [...new Set((who.instanceIds ?? []).map((id) => id.trim()).filter((id) => id.length >= minimumInstanceIdLength))];
  const allowed = new Set(allowedHeaders.map((h) => h.toLowerCase()));
  const message = parseSipMessage(raw);
  const places: Array<[string, string]> = [[message.kind === 'request' ? 'Request-URI' : 'Status line', message.startLine()]];
  for (const header of message.headers) if (!allowed.has(header.name.toLowerCase())) places.push([header.name, header.value]);
  for (const line of message.body.split(/\r?\n/)) {
    if (line.length === 0) continue;
    places.push(/^[a-z]=/.test(line) ? [`SDP ${line.slice(0, 2)}`, line.slice(2)] : ['body', line]);
  }
  const leaks: IdentityLeak[] = [];
  for (const [where, text] of places) {
    for (const { kind, text: needle, pattern } of patterns) if (pattern.test(text)) leaks.push({ where, found: `${kind} "${needle}"` });
    if (addresses.size > 0) {
      for (const ip of findIpLiterals(text)) {
        const original = addresses.get(ip);
        if (original !== undefined) leaks.push({ where, found: `address "${original}"` });
      }
    }
    const lower = text.toLowerCase();
    for (const id of instanceIds) if (lower.includes(id.toLowerCase())) leaks.push({ where, found: `instance id "${id}"` });
  }
  return leaks;
}
