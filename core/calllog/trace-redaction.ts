/**
 * What a SIP trace must never keep, however it leaves the process (call log, `veilphone logs show`, JSON and pcap
 * exports, scenario reports, the lab's trace file): the secrets in a message, replaced where they stand so the rest
 * of the message stays what support staff need.
 *
 * - `Authorization` / `Proxy-Authorization` with the Digest scheme: the `response` value (RFC 3261 §22.4, RFC 2617
 *   §3.2.2). With the nonce, realm, username and uri that stay, it is enough for an offline dictionary attack on the
 *   password. Any other scheme (Basic, which RFC 3261 §22.4 forbids, Bearer per RFC 8898) loses its whole credential.
 * - `Authentication-Info` / `Proxy-Authentication-Info`: `rspauth` (RFC 2617 §3.2.3), computed from the same H(A1).
 * - SDP `a=crypto` (RFC 4568 §6.1): every `inline:` key||salt, including an `FEC_KEY` session parameter's; and
 *   `k=clear:` / `k=base64:` keys (RFC 4566 §5.12). The mask (`REDACTEDREDACTED…`) has the key's length, so
 *   Content-Length and every body offset stay right and nothing has to be recomputed, and it is valid base64, so
 *   Wireshark still decodes the SDP.
 *
 * Header names are matched case-insensitively (RFC 3261 §7.3.1; none of these headers has a compact form), folded
 * lines and several credentials in one header are followed, quoted or unquoted values alike. Redacting twice changes
 * nothing. Anything unparseable is left as it is: this runs on every traced message, including malformed ones.
 */

/** What a redacted header value reads as (`response="<redacted>"`). */
export const redactedMarker = '<redacted>';

const secretHeaderLine = /^(?:proxy-)?(?:authorization|authentication-info)[ \t]*:/im;
const secretBodyLine = /^(?:a=crypto:|k=(?:clear|base64):)/im;
const headerName = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:/;
const tokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** RFC 7235 §2.1 token68, followed by nothing but the end of the credentials. */
const token68 = /^[A-Za-z0-9\-._~+/]+=*(?=[ \t\r\n]*(?:,|$))/;

/** The message with its secrets masked; the same string when it holds none. */
export function redactTrace(raw: string): string {
  const split = bodyStart(raw);
  const head = split === undefined ? raw : raw.slice(0, split.headEnd);
  const rest = split === undefined ? '' : raw.slice(split.headEnd, split.bodyAt);
  const body = split === undefined ? '' : raw.slice(split.bodyAt);
  const newHead = secretHeaderLine.test(head) ? redactHead(head) : head;
  const newBody = secretBodyLine.test(body) ? redactBody(body) : body;
  return newHead === head && newBody === body ? raw : newHead + rest + newBody;
}

/** A traced message (tap entry or stored message) with its raw text redacted; the same object when nothing changes. */
export function redactTraceEntry<T extends { raw: string }>(entry: T): T {
  const raw = redactTrace(entry.raw);
  return raw === entry.raw ? entry : { ...entry, raw };
}

/** Where the header section ends and the body begins (CRLF CRLF, or a bare LF LF from a sloppy peer). */
function bodyStart(raw: string): { headEnd: number; bodyAt: number } | undefined {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return undefined;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { headEnd: crlf, bodyAt: crlf + 4 };
  return { headEnd: lf, bodyAt: lf + 2 };
}

/** The header section, one logical header (a line and its folded continuation lines) at a time. */
function redactHead(head: string): string {
  const lines = head.split(/(?<=\n)/); // keeps each line's own ending
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let header = lines[i]!;
    i++;
    // RFC 3261 §7.3.1: a line starting with whitespace continues the header above it.
    while (i < lines.length && /^[ \t]/.test(lines[i]!)) header += lines[i++]!;
    out.push(redactHeader(header));
  }
  return out.join('');
}

function redactHeader(line: string): string {
  const eol = /\r?\n$/.exec(line)?.[0] ?? '';
  const header = line.slice(0, line.length - eol.length); // an unterminated quote must not swallow the line's end
  const name = headerName.exec(header);
  if (!name) return line;
  const lower = name[1]!.toLowerCase();
  const start = name[0].length;
  if (lower === 'authorization' || lower === 'proxy-authorization') return header.slice(0, start) + redactCredentials(header.slice(start), undefined) + eol;
  if (lower === 'authentication-info' || lower === 'proxy-authentication-info') return header.slice(0, start) + redactCredentials(header.slice(start), 'info') + eol;
  return line;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/**
 * Walks `credentials = auth-scheme [ token68 / #auth-param ]` (RFC 3261 §25.1, RFC 7235 §2.1), comma-separated
 * credentials included. `scheme` is 'info' for the Authentication-Info parameter list, which has no scheme.
 */
function redactCredentials(value: string, scheme: string | undefined): string {
  let out = '';
  let i = 0;
  let current = scheme;
  const n = value.length;
  while (i < n) {
    const c = value[i]!;
    if (isSpace(c) || c === ',') {
      out += c;
      i++;
      continue;
    }
    let j = i;
    while (j < n && tokenChar.test(value[j]!)) j++;
    if (j === i) {
      out += c; // not a token: keep it and move on
      i++;
      continue;
    }
    const word = value.slice(i, j);
    let k = j;
    while (k < n && isSpace(value[k])) k++;
    if (value[k] !== '=') {
      // A bare token starts new credentials: its scheme.
      out += word;
      i = j;
      current = word.toLowerCase();
      if (current !== 'digest') {
        let s = i;
        while (s < n && isSpace(value[s])) s++;
        const credential = token68.exec(value.slice(s));
        if (credential) {
          out += value.slice(i, s) + redactedMarker;
          i = s + credential[0].length;
        }
      }
      continue;
    }
    // auth-param: name [LWS] = [LWS] ( token / quoted-string ), kept up to its value.
    let v = k + 1;
    while (v < n && isSpace(value[v])) v++;
    const end = value[v] === '"' ? quotedEnd(value, v) : unquotedEnd(value, v);
    // Digest (or no scheme yet, a malformed header): only `response`; any other scheme: every value, as it is unknown.
    const param = word.toLowerCase();
    const secret = current === 'info' ? param === 'rspauth' : current === 'digest' || current === undefined ? param === 'response' : true;
    out += value.slice(i, v) + (secret ? `"${redactedMarker}"` : value.slice(v, end));
    i = end;
  }
  return out;
}

/** The index just past a quoted-string starting at `at` (RFC 3261 §25.1 quoted-pair aware); the end if unterminated. */
function quotedEnd(value: string, at: number): number {
  for (let i = at + 1; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '"') return i + 1;
  }
  return value.length;
}

function unquotedEnd(value: string, at: number): number {
  let i = at;
  while (i < value.length && value[i] !== ',' && !isSpace(value[i])) i++;
  return i;
}

/** SDP key lines, masked to their own length. */
function redactBody(body: string): string {
  return body
    .replace(/^(a=crypto:)([^\r\n]*)/gim, (_line, prefix: string, rest: string) => prefix + rest.replace(/(inline:)([A-Za-z0-9+/=]+)/gi, (_m, inline: string, key: string) => inline + maskKey(key)))
    .replace(/^(k=(?:clear|base64):)([^\r\n]*)/gim, (_line, prefix: string, key: string) => prefix + maskKey(key));
}

/** What replaces a key: `REDACTED` repeated, as long as the key. */
export const keyMask = 'REDACTED';

/**
 * `REDACTEDREDACTED…` over every character but `=` padding: the same length, and still base64 of the same size, so
 * Wireshark still decodes the SDP (it base64-decodes an inline key, and calls a packet malformed when it cannot).
 */
function maskKey(key: string): string {
  let out = '';
  for (let i = 0; i < key.length; i++) out += key[i] === '=' ? '=' : keyMask[i % keyMask.length];
  return out;
}
