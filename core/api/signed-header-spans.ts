/** A routing-header parameter that looks like a signature, as character offsets into the raw message. */
export interface SignedHeaderSpan {
  /** Offsets of `name=value` in the raw text (end exclusive). */
  start: number;
  end: number;
  /** `Via`, `Record-Route` or `Route`, as the line names it (compact `v` becomes `Via`). */
  header: string;
  name: string;
  value: string;
}

/** Headers that carry seed 002 signatures: Via (header parameter), Record-Route (header or URI parameter), Route. */
const routingHeader = /^(via|v|record-route|route)[ \t]*:/i;
/** Parameters RFC 3261 and friends define on these headers; never signatures even when long (a branch is). */
const knownParams = new Set(['branch', 'received', 'rport', 'transport', 'lr', 'maddr', 'ttl', 'user', 'method', 'tag', 'ob', 'alias', 'comp', 'sigcomp-id', 'keep', 'expires']);
const param = /;[ \t]*([A-Za-z0-9._~!%*+`'-]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;,>\s]+)/g;

/** A name that says signature (sig, vsig, rr-sig, signature, mac), or a long opaque value under an unknown name. */
function looksLikeSignature(name: string, value: string): boolean {
  const lower = name.toLowerCase();
  if (knownParams.has(lower)) return false;
  if (/sig|signature|mac\b|hmac/.test(lower)) return true;
  const bare = value.replace(/^"|"$/g, '');
  return bare.length >= 16 && /^[A-Za-z0-9+/=_.:-]+$/.test(bare) && /[0-9]/.test(bare) && /[A-Za-z]/.test(bare);
}

/**
 * The signature-looking parameters of the Via, Record-Route and Route headers in a raw SIP message, for the
 * diagnostics pane to highlight. Only the header section is read; folded lines (RFC 3261 §7.3.1) continue their
 * header.
 */
export function signedHeaderSpans(raw: string): SignedHeaderSpan[] {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd >= 0 ? raw.slice(0, headEnd) : raw;
  const spans: SignedHeaderSpan[] = [];
  let offset = 0;
  let current: string | undefined;
  for (const line of head.split('\r\n')) {
    const folded = /^[ \t]/.test(line);
    if (!folded) {
      const match = routingHeader.exec(line);
      current = match ? headerName(match[1]!) : undefined;
    }
    if (current !== undefined && offset > 0) {
      for (const found of line.matchAll(param)) {
        const [whole, name, value] = found as unknown as [string, string, string];
        if (!looksLikeSignature(name, value)) continue;
        const start = offset + found.index + whole.indexOf(name);
        spans.push({ start, end: offset + found.index + whole.length, header: current, name, value: value.replace(/^"|"$/g, '') });
      }
    }
    offset += line.length + 2;
  }
  return spans;
}

function headerName(token: string): string {
  const lower = token.toLowerCase();
  return lower === 'v' || lower === 'via' ? 'Via' : lower === 'route' ? 'Route' : 'Record-Route';
}

/** The raw text cut into plain and highlighted pieces, in order (what a view renders with <mark>). */
export function splitBySpans(raw: string, spans: readonly SignedHeaderSpan[]): Array<{ text: string; span?: SignedHeaderSpan }> {
  const pieces: Array<{ text: string; span?: SignedHeaderSpan }> = [];
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    if (span.start > at) pieces.push({ text: raw.slice(at, span.start) });
    pieces.push({ text: raw.slice(span.start, span.end), span });
    at = span.end;
  }
  if (at < raw.length) pieces.push({ text: raw.slice(at) });
  return pieces;
}
