import { ownCopy } from './own-copy.js';

/** RFC 3261 §7.3.3 compact forms (plus RFC 3515/3265/4028 ones seen in the wild). */
const compactForms: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  r: 'refer-to',
  o: 'event',
  u: 'allow-events',
  x: 'session-expires',
  a: 'accept-contact',
  b: 'referred-by',
};

/** Canonical spelling used when this code writes a header. */
const canonicalSpelling: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'p-preferred-identity': 'P-Preferred-Identity',
  'p-asserted-identity': 'P-Asserted-Identity',
  'mime-version': 'MIME-Version',
};

/**
 * Spellings already seen, so the lookups every message does many times cost one Map probe. Bounded: names come off
 * the wire, and a peer inventing new ones only makes it stop learning. What is kept is copied (a name parsed from a
 * message is a slice of it, and would keep the whole message alive).
 */
const normalized = new Map<string, string>();
const normalizedLimit = 1024;

/** The lower-case long form of a header name, so lookups ignore case and compact forms (RFC 3261 §7.3.1). */
export function normalizeHeaderName(name: string): string {
  const known = normalized.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const normal = compactForms[lower] ?? lower;
  if (normalized.size < normalizedLimit && name.length <= 64) normalized.set(ownCopy(name), ownCopy(normal));
  return normal;
}

/** How we spell a header we write: "Record-Route", "Call-ID", "CSeq". */
export function canonicalHeaderName(name: string): string {
  const normal = normalizeHeaderName(name);
  return canonicalSpelling[normal] ?? normal.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/**
 * Headers whose value may be a comma-separated list of elements (RFC 3261 §7.3.1). Others (e.g. the
 * Authorization family, whose values contain commas) are never split.
 */
const listHeaders = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'privacy', 'p-asserted-identity', 'p-preferred-identity',
  'path', 'service-route',
]);

export function isListHeader(name: string): boolean {
  return listHeaders.has(normalizeHeaderName(name));
}
