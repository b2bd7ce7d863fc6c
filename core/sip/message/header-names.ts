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
const spellings = new Map<string, { spelling: string; normal: string }>();
const spellingsLimit = 1024;

function known(name: string): { spelling: string; normal: string } | undefined {
  const found = spellings.get(name);
  if (found !== undefined || spellings.size >= spellingsLimit || name.length > 64) return found;
  const lower = name.toLowerCase();
  const entry = { spelling: ownCopy(name), normal: ownCopy(compactForms[lower] ?? lower) };
  spellings.set(entry.spelling, entry);
  return entry;
}

/** The lower-case long form of a header name, so lookups ignore case and compact forms (RFC 3261 §7.3.1). */
export function normalizeHeaderName(name: string): string {
  const found = known(name);
  if (found !== undefined) return found.normal;
  const lower = name.toLowerCase();
  return compactForms[lower] ?? lower;
}

/**
 * The same spelling as one shared string, for the parser: each message then holds the one copy of "Via" rather than a
 * slice of its own text, and every later lookup of that name finds its hash already computed.
 */
export function sharedHeaderName(name: string): string {
  return known(name)?.spelling ?? name;
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
