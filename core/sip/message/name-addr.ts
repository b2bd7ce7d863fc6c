import { formatParams, getParam, parseParams, type SipParam } from './params.js';
import { SipParseError } from './sip-parse-error.js';
import { formatSipUri, isAbsoluteUri, parseSipUri, type SipUri } from './sip-uri.js';

/**
 * A From/To/Contact/Route/Record-Route element: `"Display" <uri>;params` or `uri;params` (RFC 3261 §20.10:
 * in the addr-spec form, parameters after the URI are header parameters, not URI parameters).
 */
export interface NameAddr {
  display?: string;
  uri: SipUri;
  params: SipParam[];
}

/** The parts of a name-addr or addr-spec, its syntax checked, its URI not yet parsed. */
export interface AddressParts {
  display?: string;
  uri: string;
  params?: string;
}

/** RFC 3261 §25.1 token, the characters an unquoted display name's words are made of. */
const tokenWords = /^[A-Za-z0-9\-.!%*_+`'~]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~]+)*$/;

/**
 * RFC 3261 §20.10 / §25.1: `name-addr = [ display-name ] LAQUOT addr-spec RAQUOT` with an unquoted display name made of
 * tokens (RFC 4475 §3.1.2.15) and no white space inside the brackets (§3.1.2.14), or a bare addr-spec, which cannot
 * carry a "?" (§20: a URI with a comma, question mark or semicolon must be bracketed; RFC 4475 §3.1.2.13).
 */
export function splitAddress(text: string): AddressParts {
  const input = text.trim();
  if (input.length === 0) throw new SipParseError('BAD_NAME_ADDR', 'empty address');
  if (input === '*') throw new SipParseError('BAD_NAME_ADDR', 'wildcard "*" is not an address');
  let display: string | undefined;
  let rest = input;
  if (rest.startsWith('"')) {
    const end = closingQuote(rest);
    display = unquote(rest.slice(1, end));
    rest = rest.slice(end + 1).trim();
    if (!rest.startsWith('<')) throw new SipParseError('BAD_NAME_ADDR', 'quoted display name without <uri>');
  }
  const open = rest.indexOf('<');
  if (open >= 0) {
    const close = rest.indexOf('>', open);
    if (close < 0) throw new SipParseError('BAD_NAME_ADDR', 'unterminated <uri>');
    if (display === undefined) {
      const words = rest.slice(0, open).trim();
      if (words.length > 0 && !tokenWords.test(words)) throw new SipParseError('BAD_NAME_ADDR', 'unquoted display name with characters outside token');
      if (words.length > 0) display = words;
    }
    const uri = rest.slice(open + 1, close);
    if (uri !== uri.trim()) throw new SipParseError('BAD_NAME_ADDR', 'white space inside <uri>');
    const after = rest.slice(close + 1).trim();
    if (after.length > 0 && !after.startsWith(';')) throw new SipParseError('BAD_NAME_ADDR', 'junk after <uri>');
    return addressParts(display, uri, after.length > 0 ? after.slice(1) : undefined);
  }
  const semi = rest.indexOf(';');
  const uri = semi >= 0 ? rest.slice(0, semi) : rest;
  if (uri.includes('?')) throw new SipParseError('BAD_NAME_ADDR', 'a URI with header fields outside <>');
  return addressParts(undefined, uri.trim(), semi >= 0 ? rest.slice(semi + 1) : undefined);
}

/** Built field by field: this runs for every From, To, Contact and route entry a proxy reads. */
function addressParts(display: string | undefined, uri: string, params: string | undefined): AddressParts {
  const parts: AddressParts = { uri };
  if (display !== undefined) parts.display = display;
  if (params !== undefined) parts.params = params;
  return parts;
}

export function parseNameAddr(text: string): NameAddr {
  const parts = splitAddress(text);
  const value: NameAddr = { uri: parseSipUri(parts.uri), params: parts.params !== undefined ? parseParams(parts.params) : [] };
  return withDisplay(value, parts.display);
}

/**
 * Check a From, To or Contact value as RFC 3261 §25.1 allows it: the address may be any absoluteURI (`isbn:`,
 * `http:`, RFC 4475 §3.3.4); a SIP, SIPS or tel URI must also parse as one.
 */
export function checkAddress(text: string): void {
  const parts = splitAddress(text);
  if (!isAbsoluteUri(parts.uri)) throw new SipParseError('BAD_NAME_ADDR', 'not a URI');
  if (/^(?:sips?|tel):/i.test(parts.uri)) parseSipUri(parts.uri);
  if (parts.params !== undefined) parseParams(parts.params);
}

/** The `tag` parameter of a From or To value (RFC 3261 §19.3), whatever URI scheme it names. */
export function addressTag(text: string): string | undefined {
  const params = splitAddress(text).params;
  return params === undefined ? undefined : getParam(parseParams(params), 'tag');
}

/** Always writes the name-addr form, so URI parameters can never be mistaken for header parameters. */
export function formatNameAddr(value: NameAddr): string {
  const display = value.display !== undefined ? `${quote(value.display)} ` : '';
  return `${display}<${formatSipUri(value.uri)}>${formatParams(value.params)}`;
}

export function quote(text: string): string {
  return `"${quotedContent(text)}"`;
}

/**
 * The inside of RFC 3261 §25.1's quoted-string for `text`: `"` and `\` as quoted-pairs, line breaks and other controls
 * as spaces, so no display name can end its header and start another. For sip.js, which writes a display name between
 * quotes as it is (`Bob "The Builder"` went out as `"Bob "The Builder""`, and the registrar answered 400).
 */
export function quotedContent(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, ' ').replace(/[\\"]/g, (ch) => `\\${ch}`);
}

function unquote(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/g, '$1');
}

function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  throw new SipParseError('BAD_NAME_ADDR', 'unterminated quoted display name');
}

function withDisplay(value: NameAddr, display: string | undefined): NameAddr {
  if (display !== undefined) value.display = display;
  return value;
}
