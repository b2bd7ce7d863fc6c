import { formatParams, getParam, parseParams, type SipParam } from './params.js';
import { SipParseError } from './sip-parse-error.js';

/** A SIP or SIPS URI (RFC 3261 §19.1); `tel:` URIs keep their number in `user` with no host. */
export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user?: string;
  password?: string;
  /** Host as written, IPv6 references with their brackets: `[2001:db8::1]`. */
  host: string;
  port?: number;
  params: SipParam[];
  /** The `?a=b&c=d` part, kept verbatim without the `?`. */
  headers?: string;
}

/**
 * The largest part of a dotted quad (four dot-separated runs of 1-3 digits, RFC 3261 §25.1 IPv4address), or -1 for
 * text of another shape. One pass over the characters: every URI and Via a proxy reads goes through here.
 */
function dottedQuadMax(text: string): number {
  let dots = 0;
  let digits = 0;
  let part = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      digits = 0;
      part = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || ++digits > 3) return -1;
    part = part * 10 + (c - 0x30);
    if (part > max) max = part;
  }
  return dots === 3 && digits > 0 ? max : -1;
}

const isIPv4 = (text: string): boolean => {
  const max = dottedQuadMax(text);
  return max >= 0 && max <= 255;
};

const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** RFC 3261 §25.1 hostname: labels of letters, digits and inner hyphens, the last one starting with a letter, an optional final dot. */
function isHostname(host: string): boolean {
  const end = host.endsWith('.') ? host.length - 1 : host.length;
  let start = 0;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? host.charCodeAt(i) : 0x2e;
    if (c !== 0x2e) {
      if (!isLetter(c) && !isDigit(c) && c !== 0x2d) return false;
      continue;
    }
    if (i === start || host.charCodeAt(start) === 0x2d || host.charCodeAt(i - 1) === 0x2d) return false; // empty label, or a hyphen at its edge
    if (i === end && !isLetter(host.charCodeAt(start))) return false; // toplabel = ALPHA ...
    start = i + 1;
  }
  return true;
}

/** RFC 3261 §25.1 IPv6address (RFC 4291 §2.2): eight hex groups, `::` once for a run of zeros, an IPv4 tail allowed. */
function isIPv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string): string[] | undefined => {
    if (part === '') return [];
    const items = part.split(':');
    const last = items.at(-1)!;
    const tail = last.includes('.') ? (isIPv4(last) ? ['0', '0'] : undefined) : [last];
    if (!tail) return undefined;
    const all = [...items.slice(0, -1), ...tail];
    return all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g)) ? all : undefined;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return false;
  if (halves.length === 1) return head.length === 8 && !halves[0]!.slice(0, halves[0]!.lastIndexOf(':')).includes('.');
  return head.length + rest.length <= 7 && !halves[0]!.includes('.');
}

/**
 * RFC 3261 §25.1 `host`: an IPv6reference, an IPv4address (each part at most 255), or a hostname (labels of letters,
 * digits and inner hyphens, the last one starting with a letter, an optional final dot). `127..0.1` and `1270.0.0.1`
 * are none of these.
 */
export function isValidHost(host: string): boolean {
  if (host.startsWith('[')) return host.endsWith(']') && isIPv6(host.slice(1, -1));
  const quadMax = dottedQuadMax(host);
  if (quadMax >= 0) return quadMax <= 255;
  return isHostname(host);
}

export function parseSipUri(text: string): SipUri {
  const input = text.trim();
  const colon = input.indexOf(':');
  const scheme = input.slice(0, colon).toLowerCase();
  if (colon < 0 || (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel')) {
    throw new SipParseError('BAD_URI', `not a sip/sips/tel URI: "${clip(input)}"`);
  }
  let rest = input.slice(colon + 1);
  if (scheme === 'tel') {
    const question = rest.indexOf('?');
    if (question >= 0) rest = rest.slice(0, question);
    const semi = rest.indexOf(';');
    const number = semi >= 0 ? rest.slice(0, semi) : rest;
    if (!/^[+0-9*#A-Da-d().-]+$/.test(number)) throw new SipParseError('BAD_URI', `bad tel number "${clip(number)}"`);
    return { scheme, user: number, host: '', params: semi >= 0 ? parseParams(rest.slice(semi + 1)) : [] };
  }
  // RFC 3261 §25.1: a user part may hold "?", ";" and ":" (RFC 4475 §3.1.1.2), parameters and headers never hold "@",
  // so the userinfo ends at the last "@" and only what follows it is split into host, parameters and headers.
  const at = rest.lastIndexOf('@');
  let userinfo: string | undefined;
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let headers: string | undefined;
  const question = rest.indexOf('?');
  if (question >= 0) {
    headers = rest.slice(question + 1);
    rest = rest.slice(0, question);
  }
  const semi = rest.indexOf(';');
  const hostport = semi >= 0 ? rest.slice(0, semi) : rest;
  const params = semi >= 0 ? parseParams(rest.slice(semi + 1)) : [];
  const { host, port } = parseHostPort(hostport);
  const uri: SipUri = { scheme, host, params };
  if (userinfo !== undefined) {
    const pc = userinfo.indexOf(':');
    uri.user = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (pc >= 0) uri.password = userinfo.slice(pc + 1);
    if (uri.user.length === 0) throw new SipParseError('BAD_URI', `empty user part in "${clip(input)}"`);
  }
  if (port !== undefined) uri.port = port;
  if (headers !== undefined) uri.headers = headers;
  return uri;
}

/** RFC 3261 §25.1 absoluteURI (RFC 2396 §3): a scheme, a colon, then no whitespace, quotes or angle brackets. */
export function isAbsoluteUri(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"]+$/.test(text);
}

/** The schemes this code can act on in a Request-URI. */
const requestUriSchemes = new Set(['sip', 'sips', 'tel']);

/**
 * A Request-URI (RFC 3261 §25.1: SIP-URI / SIPS-URI / absoluteURI). Not a URI at all (`<sip:...>`, RFC 4475 §3.1.2.7)
 * is BAD_URI (400); a well-formed URI of a scheme we cannot serve is UNSUPPORTED_URI_SCHEME (416, §8.2.2.1 and
 * §16.3 step 2; RFC 4475 §3.3.2, §3.3.3); header fields in it are BAD_URI (§19.1.1's table, RFC 4475 §3.1.2.11).
 */
export function parseRequestUri(text: string): SipUri {
  if (!isAbsoluteUri(text)) throw new SipParseError('BAD_URI', `not a URI: "${clip(text)}"`);
  const scheme = text.slice(0, text.indexOf(':')).toLowerCase();
  if (!requestUriSchemes.has(scheme)) throw new SipParseError('UNSUPPORTED_URI_SCHEME', `unsupported URI scheme "${clip(scheme)}"`);
  const uri = parseSipUri(text);
  if (uri.headers !== undefined) throw new SipParseError('BAD_URI', 'header fields in a Request-URI');
  return uri;
}

/** Parse `host[:port]`, IPv6 references bracketed. */
export function parseHostPort(text: string): { host: string; port?: number } {
  let host = text.trim();
  let port: number | undefined;
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon > close && !(close < 0 && host.indexOf(':') !== colon)) {
    const portText = host.slice(colon + 1);
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new SipParseError('BAD_URI', `bad port "${clip(portText)}"`);
    }
    port = Number(portText);
    host = host.slice(0, colon);
  }
  if (!isValidHost(host)) throw new SipParseError('BAD_URI', `bad host "${clip(host)}"`);
  return port === undefined ? { host } : { host, port };
}

export function formatSipUri(uri: SipUri): string {
  if (uri.scheme === 'tel') return `tel:${uri.user ?? ''}${formatParams(uri.params)}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) out += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += formatParams(uri.params);
  if (uri.headers !== undefined) out += `?${uri.headers}`;
  return out;
}

/** The host without IPv6 brackets, as a socket wants it. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * A domain as a SIP URI must write it (RFC 3261 §25.1 `hostport`): `2001:db8::1`, `[2001:db8::1]` and
 * `[2001:db8::1]:5060` become `[2001:db8::1]` and `[2001:db8::1]:5060`; names and IPv4 addresses keep their port.
 * Throws a SipParseError for anything that is not a valid host.
 */
export function uriDomain(text: string): string {
  const trimmed = text.trim();
  // An IPv6 address without brackets (more than one colon, no bracket) can only be a bare address: it has no port.
  const bare = !trimmed.startsWith('[') && (trimmed.match(/:/g)?.length ?? 0) > 1 ? `[${trimmed}]` : trimmed;
  const { host, port } = parseHostPort(bare);
  return port === undefined ? host : `${host}:${port}`;
}

/** The host as a URI or Via wants it: IPv6 addresses bracketed. */
export function uriHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** The transport a URI asks for (`;transport=`), lower-case, or undefined. */
export function uriTransport(uri: SipUri): string | undefined {
  return getParam(uri.params, 'transport')?.toLowerCase();
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
