import { formatParams, parseParams, type SipParam } from './params.js';
import { SipParseError } from './sip-parse-error.js';
import { formatSipUri, parseSipUri, type SipUri } from './sip-uri.js';

/**
 * A From/To/Contact/Route/Record-Route element: `"Display" <uri>;params` or `uri;params` (RFC 3261 §20.10:
 * in the addr-spec form, parameters after the URI are header parameters, not URI parameters).
 */
export interface NameAddr {
  display?: string;
  uri: SipUri;
  params: SipParam[];
}

export function parseNameAddr(text: string): NameAddr {
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
      const token = rest.slice(0, open).trim();
      if (token.length > 0) display = token;
    }
    const uri = parseSipUri(rest.slice(open + 1, close));
    const after = rest.slice(close + 1).trim();
    if (after.length > 0 && !after.startsWith(';')) throw new SipParseError('BAD_NAME_ADDR', 'junk after <uri>');
    return withDisplay({ uri, params: after.length > 0 ? parseParams(after.slice(1)) : [] }, display);
  }
  const semi = rest.indexOf(';');
  const uri = parseSipUri(semi >= 0 ? rest.slice(0, semi) : rest);
  return { uri, params: semi >= 0 ? parseParams(rest.slice(semi + 1)) : [] };
}

/** Always writes the name-addr form, so URI parameters can never be mistaken for header parameters. */
export function formatNameAddr(value: NameAddr): string {
  const display = value.display !== undefined ? `${quote(value.display)} ` : '';
  return `${display}<${formatSipUri(value.uri)}>${formatParams(value.params)}`;
}

export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

function unquote(text: string): string {
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
