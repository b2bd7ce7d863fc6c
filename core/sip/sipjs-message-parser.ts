import { Grammar, NameAddrHeader, URI } from 'sip.js';
import { IncomingRequestMessage } from 'sip.js/lib/core/messages/incoming-request-message.js';
import { IncomingResponseMessage } from 'sip.js/lib/core/messages/incoming-response-message.js';
import { Parser } from 'sip.js/lib/core/messages/parser.js';

/**
 * sip.js's message parser (0.21, core/messages/parser.js) without its grammar for plain values (issue 23: the PEG
 * grammar was 15-18 % of an agent's CPU under load). Our codec has already parsed and checked every message before
 * sip.js sees it (core/sip/message/inspect-inbound.ts); what sip.js needs on top is its own objects (URI,
 * NameAddrHeader, the parsed Via, CSeq…). This builds them the way sip.js's parser does, line by line and header by
 * header in the same order, but each eagerly parsed value of the common plain shape (a `sip:`/`sips:` URI of token
 * characters, a quoted display name without escapes, token parameters, a Via of branch, rport and received) is read
 * by the small readers below; anything else, and every header sip.js parses lazily, still goes to sip.js's grammar.
 * sipjs-message-parser.test.ts holds both to the same output on RFC 4475's messages and on real traffic, but for a
 * reason phrase outside the grammar, read as it came (`statusLineAsItCame`).
 */

type Logger = { warn(message: string): void; error(message: string): void };
type SipJsMessage = IncomingRequestMessage | IncomingResponseMessage;
interface HeaderEntry {
  raw: string;
  parsed?: unknown;
}

const originalParseMessage = Parser.parseMessage;
let installed = false;

/**
 * A message our codec accepted and sip.js's parser refused: sip.js would drop it without a word (its UserAgent logs a
 * warning), so it is thrown instead, for the transport to count and answer (sipjs-transport.ts `unparsed`).
 */
export class SipJsUnparsedError extends Error {
  override readonly name = 'SipJsUnparsedError';
}

/** `parseSipJsMessage`, throwing `SipJsUnparsedError` where sip.js's parser returns nothing. */
export function parseSipJsMessageOrThrow(data: string, logger: Logger): SipJsMessage {
  const message = parseSipJsMessage(data, logger);
  if (message === undefined) throw new SipJsUnparsedError('sip.js could not parse the message');
  return message;
}

/** Make sip.js parse with `parseSipJsMessageOrThrow` from now on (once per process; sip.js's own parser stays the fallback). */
export function installSipJsMessageParser(): void {
  if (installed) return;
  installed = true;
  (Parser as { parseMessage: typeof Parser.parseMessage }).parseMessage = parseSipJsMessageOrThrow as typeof Parser.parseMessage;
}

/**
 * sip.js's Parser.parseMessage, with plain values read without its grammar. Same result, same failures, but for a
 * reason phrase outside the grammar (`statusLineAsItCame`).
 */
export function parseSipJsMessage(data: string, logger: Logger): SipJsMessage | undefined {
  let headerEnd = data.indexOf('\r\n');
  if (headerEnd === -1) return originalParseMessage(data, logger as never);
  const firstLine = data.substring(0, headerEnd);
  const start = firstLine.startsWith('SIP/2.0 ') || !printable.test(firstLine) ? statusLineAsItCame(firstLine) : plainStartLine(firstLine);
  if (start === undefined) return originalParseMessage(data, logger as never);
  let message: SipJsMessage;
  if ('method' in start) {
    const request = new IncomingRequestMessage();
    request.method = start.method;
    request.ruri = start.uri;
    message = request;
  } else {
    const response = new IncomingResponseMessage();
    response.statusCode = start.status;
    response.reasonPhrase = start.reason;
    message = response;
  }
  message.data = data;
  let headerStart = headerEnd + 2;
  let bodyStart: number;
  for (;;) {
    headerEnd = headerLineEnd(data, headerStart);
    if (headerEnd === -2) {
      bodyStart = headerStart + 2;
      break;
    } else if (headerEnd === -1) {
      logger.error('malformed message');
      return undefined;
    }
    const error = parseHeader(message, data, headerStart, headerEnd);
    if (error !== undefined) {
      logger.error(error);
      return undefined;
    }
    headerStart = headerEnd + 2;
  }
  message.body = message.hasHeader('content-length') ? data.substr(bodyStart, Number(message.getHeader('content-length'))) : data.substring(bodyStart);
  return message;
}

/** sip.js's getHeader: where the header line starting at `start` ends (folded lines included); -2 at the blank line. */
function headerLineEnd(data: string, headerStart: number): number {
  let start = headerStart;
  if (data.startsWith('\r\n', start)) return -2;
  for (;;) {
    const partialEnd = data.indexOf('\r\n', start);
    if (partialEnd === -1) return -1;
    if (!data.startsWith('\r\n', partialEnd + 2) && /^\s/.test(data.charAt(partialEnd + 2))) start = partialEnd + 2;
    else return partialEnd;
  }
}

/** sip.js's parseHeader, header by header; undefined when it went well, else its error text. */
function parseHeader(message: SipJsMessage, data: string, headerStart: number, headerEnd: number): string | undefined {
  const colon = data.indexOf(':', headerStart);
  const name = data.substring(headerStart, colon).trim();
  const value = data.substring(colon + 1, headerEnd).trim();
  let parsed: unknown;
  switch (name.toLowerCase()) {
    case 'via':
    case 'v':
      message.addHeader('via', value);
      if (message.getHeaders('via').length === 1) {
        parsed = parseOne(message, 'Via', plainVia);
        if (parsed) {
          message.via = parsed as typeof message.via;
          message.viaBranch = (parsed as { branch: string }).branch;
        }
      } else {
        parsed = 0;
      }
      break;
    case 'from':
    case 'f':
      message.setHeader('from', value);
      parsed = parseOne(message, 'From', plainFromTo);
      if (parsed) {
        message.from = parsed as NameAddrHeader;
        message.fromTag = (parsed as NameAddrHeader).getParam('tag') as string; // as sip.js's parser sets it
      }
      break;
    case 'to':
    case 't':
      message.setHeader('to', value);
      parsed = parseOne(message, 'To', plainFromTo);
      if (parsed) {
        message.to = parsed as NameAddrHeader;
        message.toTag = (parsed as NameAddrHeader).getParam('tag') as string;
      }
      break;
    case 'record-route':
      parsed = parseList(message, 'record-route', 'Record-Route', value, 'Record_Route');
      break;
    case 'call-id':
    case 'i':
      message.setHeader('call-id', value);
      parsed = parseOne(message, 'Call-ID', plainCallId);
      if (parsed) message.callId = value;
      break;
    case 'contact':
    case 'm':
      parsed = parseList(message, 'contact', 'Contact', value, 'Contact');
      break;
    case 'content-length':
    case 'l':
      message.setHeader('content-length', value);
      parsed = parseOne(message, 'Content-Length', plainNumber);
      break;
    case 'content-type':
    case 'c':
      message.setHeader('content-type', value);
      parsed = parseOne(message, 'Content-Type', plainContentType);
      break;
    case 'cseq':
      message.setHeader('cseq', value);
      parsed = parseOne(message, 'CSeq', plainCSeq);
      if (parsed) message.cseq = (parsed as { value: number }).value;
      if (message instanceof IncomingResponseMessage) message.method = (parsed as { method: string }).method;
      break;
    case 'max-forwards':
      message.setHeader('max-forwards', value);
      parsed = parseOne(message, 'Max-Forwards', plainNumber);
      break;
    case 'www-authenticate':
    case 'proxy-authenticate':
    case 'refer-to':
    case 'r': {
      const header = name.toLowerCase() === 'r' ? 'refer-to' : name.toLowerCase();
      message.setHeader(header, value);
      parsed = message.parseHeader(header); // the grammar: a few per call at most
      if (parsed && header === 'refer-to') message.referTo = parsed as never; // sip.js's parser stores the parsed address there
      break;
    }
    default:
      message.addHeader(name.toLowerCase(), value);
      parsed = 0;
  }
  return parsed === undefined ? `error parsing header '${name}'` : undefined;
}

/** The first `name` header's value: read plainly when it has the plain shape, else by the grammar (parseHeader). */
function parseOne(message: SipJsMessage, name: string, plain: (value: string) => unknown): unknown {
  const header = (message.headers as Record<string, HeaderEntry[]>)[name]?.[0];
  if (header === undefined) return undefined;
  const value = printable.test(header.raw) ? plain(header.raw) : undefined;
  if (value === undefined) return message.parseHeader(name);
  header.parsed = value;
  return value;
}

/** Contact and Record-Route: one header entry per element, each with its raw text and parsed address. */
function parseList(message: SipJsMessage, lower: string, name: string, value: string, rule: string): unknown {
  const elements = printable.test(value) ? plainElements(value, name === 'Contact') : undefined;
  if (elements !== undefined) {
    for (const element of elements) {
      message.addHeader(lower, element.raw);
      const entries = (message.headers as Record<string, HeaderEntry[]>)[name]!;
      entries[entries.length - 1]!.parsed = element.parsed;
    }
    return elements;
  }
  const parsed = Grammar.parse(value, rule) as unknown;
  if (parsed === -1 || !Array.isArray(parsed)) return undefined;
  for (const header of parsed as Array<{ position: number; offset: number; parsed: unknown }>) {
    message.addHeader(lower, value.substring(header.position, header.offset));
    const entries = (message.headers as Record<string, HeaderEntry[]>)[name]!;
    entries[entries.length - 1]!.parsed = header.parsed;
  }
  return parsed;
}

// ---- the plain shapes: each returns what sip.js's grammar would, or undefined to leave the value to the grammar ----

const tokenChars = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
/**
 * Printable ASCII, space and tab only: a value with a control character, a folded line or anything beyond ASCII
 * (which JavaScript's trim and \s treat as white space where SIP does not) goes to the grammar whole.
 */
const printable = /^[\x20-\x7E\t]*$/;
/**
 * The grammar commits to the first keyword an alternative matches and never tries the next (PEG): a value that only
 * starts with one (`udpx`, `phonex`, `lrx`, `INVITEX`) fails there, so such words are left to it.
 */
function startsWithKeyword(value: string, keywords: readonly string[]): boolean {
  const lower = value.toLowerCase();
  return keywords.some((keyword) => lower.startsWith(keyword) && lower !== keyword);
}
const uriTransports = ['udp', 'tcp', 'sctp', 'tls'];
const uriUsers = ['phone', 'ip'];
const grammarMethods = ['invite', 'ack', 'options', 'bye', 'cancel', 'register', 'subscribe', 'publish', 'notify', 'refer'];
const methodToken = /^[A-Za-z]+$/;
/** RFC 3261 §25.1 user unreserved characters, no escapes (sip.js decodes escapes; a `%` goes to the grammar). */
const plainUser = /^[A-Za-z0-9\-_.!~*'()&=+$,]+$/;
/** RFC 3261 §25.1 paramchar without escapes, "[", "]", "/" and ":" (IPv6 maddr, URLs go to the grammar). */
const plainParamChars = /^[A-Za-z0-9\-_.!~*'()&+$]+$/;
const hostnamePattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/; // no final dot: sip.js 0.21 refuses it
const ipv4Pattern = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv6Reference = /^\[[0-9A-Fa-f:.]+\]$/;

function hostType(host: string): 'IPv4' | 'IPv6' | 'domain' | undefined {
  if (ipv4Pattern.test(host)) return 'IPv4';
  // IPv6 in full or with "::" (no IPv4 tail): what the grammar's IPv6reference takes
  if (ipv6Reference.test(host)) return isPlainIPv6(host.slice(1, -1)) ? 'IPv6' : undefined;
  if (/^[\d.]+$/.test(host)) return undefined; // looks like an address and is not one: the grammar decides
  return hostnamePattern.test(host) ? 'domain' : undefined;
}

function isPlainIPv6(text: string): boolean {
  if (text.includes('.')) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  if (!groups.every((list) => list.every((group) => /^[0-9A-Fa-f]{1,4}$/.test(group)))) return false;
  const count = groups.reduce((sum, list) => sum + list.length, 0);
  // "::" alone is refused by the grammar: at least one group beside it
  return halves.length === 2 ? count >= 1 && count <= 7 : count === 8;
}

/** `host[:port]`, port 0-65535. */
function hostPort(text: string): { host: string; port?: number; type: 'IPv4' | 'IPv6' | 'domain' } | undefined {
  const close = text.lastIndexOf(']');
  const colon = text.indexOf(':', close + 1);
  const host = colon >= 0 ? text.slice(0, colon) : text;
  const type = hostType(host);
  if (type === undefined) return undefined;
  if (colon < 0) return { host, type };
  const port = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return undefined;
  return { host, port: Number(port), type };
}

/** A `sip:`/`sips:` URI: user of plain characters, a host, a port and plain parameters, no password, no headers. */
function plainUri(text: string): URI | undefined {
  const colon = text.indexOf(':');
  const scheme = text.slice(0, colon);
  const lower = scheme.toLowerCase();
  if (lower !== 'sip' && lower !== 'sips') return undefined;
  if (text.includes('?') || text.includes('%')) return undefined;
  let rest = text.slice(colon + 1);
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!plainUser.test(user) || rest.includes('@')) return undefined;
  }
  const pieces = rest.split(';');
  const address = hostPort(pieces[0]!);
  if (address === undefined) return undefined;
  const parameters: Record<string, string | undefined> = {};
  for (const piece of pieces.slice(1)) {
    const equals = piece.indexOf('=');
    const key = (equals >= 0 ? piece.slice(0, equals) : piece).toLowerCase();
    const value = equals >= 0 ? piece.slice(equals + 1) : undefined;
    if (!plainParamChars.test(key) || (value !== undefined && !plainParamChars.test(value))) return undefined;
    // the grammar's own rules for these (ttl even lands on the header's parameters): leave anything unusual to it
    if (key === 'ttl' || (key === 'lr' && value !== undefined) || startsWithKeyword(key, ['lr'])) return undefined;
    if ((key === 'transport' && startsWithKeyword(value ?? '', uriTransports)) || (key === 'user' && startsWithKeyword(value ?? '', uriUsers))) return undefined;
    // maddr and method: the grammar's host and Method rules then overwrite the URI's host or the request's method
    // (sip.js 0.21), so such URIs are left to the grammar
    if (key === 'maddr' || key === 'method') return undefined;
    if ((key === 'transport' || key === 'user') && value === undefined) return undefined;
    parameters[key] = key === 'transport' || key === 'user' ? value!.toLowerCase() : value;
  }
  return new URI(scheme, user as string, address.host, address.port as number, parameters as Record<string, string>);
}

/**
 * Header parameters `;name[=value]`, values tokens or quoted strings without escapes; in a Contact (`contact`) q and
 * expires are numbers to the grammar (RFC 3261 §20.10 contact-params), elsewhere they are plain generic parameters.
 */
function plainHeaderParams(text: string, contact: boolean): Record<string, string | undefined> | undefined {
  const parameters: Record<string, string | undefined> = {};
  if (text.trim() === '') return parameters;
  if (!text.trimStart().startsWith(';')) return undefined;
  for (const raw of splitOutside(text.trimStart().slice(1), ';') ?? [undefined]) {
    if (raw === undefined) return undefined;
    const piece = raw.trim();
    const equals = piece.indexOf('=');
    const key = (equals >= 0 ? piece.slice(0, equals) : piece).trim();
    let value = equals >= 0 ? piece.slice(equals + 1).trim() : undefined;
    if (!tokenChars.test(key) || key.includes('%')) return undefined;
    if (value !== undefined) {
      const quoted = /^"[^"\\]*"$/.test(value);
      if (!quoted && !tokenChars.test(value)) return undefined;
      if (!quoted && value.includes('%')) return undefined;
    }
    const lower = key.toLowerCase();
    // a repeated parameter or a tag without a value: how the grammar settles them is its own business
    if (lower in parameters || (lower === 'tag' && value === undefined)) return undefined;
    if (contact && lower === 'q') {
      if (value === undefined || !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) return undefined;
      if (value.startsWith('0')) value = String(parseFloat(value)); // the grammar reads 0.xxx as a number, 1.x as text
    } else if (contact && lower === 'expires') {
      if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
      value = String(parseInt(value, 10));
    }
    parameters[lower] = value;
  }
  return parameters;
}

/** `"Display" <uri>;params`, `Display Words <uri>;params` or `uri;params`, as sip.js's NameAddrHeader. */
function plainNameAddr(text: string, contact = false): NameAddrHeader | undefined {
  let display: string | undefined;
  let rest = text;
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    if (end < 0 || rest.slice(1, end).includes('\\')) return undefined;
    display = rest.slice(1, end);
    rest = rest.slice(end + 1).trimStart();
    if (!rest.startsWith('<')) return undefined;
  }
  const open = rest.indexOf('<');
  if (open >= 0) {
    if (display === undefined && open > 0) {
      const words = rest.slice(0, open).trim();
      if (!/^[A-Za-z0-9\-.!*_+`'~]+(?:[ \t]+[A-Za-z0-9\-.!*_+`'~]+)*$/.test(words)) return undefined;
      display = words;
    }
    const close = rest.indexOf('>', open);
    if (close < 0) return undefined;
    const uri = plainUri(rest.slice(open + 1, close));
    const parameters = plainHeaderParams(rest.slice(close + 1), contact);
    if (uri === undefined || parameters === undefined) return undefined;
    return new NameAddrHeader(uri, display as string, parameters as Record<string, string>);
  }
  if (display !== undefined || /[\s<>",]/.test(rest)) return undefined;
  const semi = rest.indexOf(';');
  const uri = plainUri(semi >= 0 ? rest.slice(0, semi) : rest);
  const parameters = plainHeaderParams(semi >= 0 ? rest.slice(semi) : '', contact);
  if (uri === undefined || parameters === undefined) return undefined;
  return new NameAddrHeader(uri, display as unknown as string, parameters as Record<string, string>);
}

/** A From or To address: the grammar keeps a token tag aside and sets it after the other parameters (RFC 3261 §20.20). */
function plainFromTo(text: string): NameAddrHeader | undefined {
  const address = plainNameAddr(text);
  const tag = address?.parameters.tag;
  if (address !== undefined && typeof tag === 'string' && !tag.startsWith('"')) {
    address.deleteParam('tag');
    address.setParam('tag', tag);
  }
  return address;
}

/** A Contact or Record-Route list: each element's trimmed text and its address; `*` and odd lists go to the grammar. */
function plainElements(value: string, contact: boolean): Array<{ raw: string; parsed: NameAddrHeader }> | undefined {
  const parts = splitOutside(value, ',');
  if (parts === undefined) return undefined;
  const elements: Array<{ raw: string; parsed: NameAddrHeader }> = [];
  for (const part of parts) {
    // RFC 3261 §25.1 RAQUOT is ">" SWS: the grammar's element takes the white space after its ">", not after a parameter
    const lead = part.trimStart();
    const raw = /^[^]*>\s*$/.test(lead) ? lead : lead.trimEnd();
    // an addr-spec in a list must be bracketed for its parameters to be the header's; leave bare ones to the grammar
    if (!raw.includes('<')) return undefined;
    const parsed = plainNameAddr(raw.trimEnd(), contact);
    if (parsed === undefined) return undefined;
    elements.push({ raw, parsed });
  }
  return elements;
}

/** Split at `separator` outside quotes and angle brackets; undefined when quotes or brackets do not close. */
function splitOutside(text: string, separator: string): string[] | undefined {
  const parts: string[] = [];
  let quoted = false;
  let bracketed = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') return undefined; // escapes: the grammar's business
    if (ch === '"' && !bracketed) quoted = !quoted;
    else if (!quoted && ch === '<') bracketed = true;
    else if (!quoted && ch === '>') bracketed = false;
    else if (!quoted && !bracketed && ch === separator) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  if (quoted || bracketed) return undefined;
  parts.push(text.slice(from));
  return parts;
}

/** A Via of `SIP/2.0/TRANSPORT host[:port]` with branch, rport and received only, as sip.js's parsed Via. */
function plainVia(text: string): Record<string, unknown> | undefined {
  const match = /^SIP\/2\.0\/([A-Z]+) ([^;\s]+)((?:;[^;]*)*)$/.exec(text);
  if (!match || startsWithKeyword(match[1]!, ['udp', 'tcp', 'tls', 'sctp'])) return undefined;
  const address = hostPort(match[2]!);
  if (address === undefined) return undefined;
  const via: Record<string, unknown> = { protocol: 'SIP', transport: match[1], host_type: address.type, host: address.host };
  if (address.port !== undefined) via.port = address.port;
  for (const piece of match[3]!.split(';').slice(1)) {
    const equals = piece.indexOf('=');
    const key = equals >= 0 ? piece.slice(0, equals) : piece;
    const value = equals >= 0 ? piece.slice(equals + 1) : undefined;
    const lower = key.toLowerCase();
    if (key === 'branch' && value !== undefined && tokenChars.test(value) && !value.includes('%')) via.branch = value;
    else if (key === 'rport' && value !== undefined && /^\d{1,5}$/.test(value)) via.rport = value;
    else if (key === 'received' && value !== undefined && (ipv4Pattern.test(value) || (!value.startsWith('[') && value.includes(':') && isPlainIPv6(value)))) {
      via.received = value;
      via.host_type = ipv4Pattern.test(value) ? 'IPv4' : 'IPv6'; // the grammar's address rule notes the type of the last address it read
    }
    // an rport without a value is a generic parameter to the grammar, like any other plain one
    else if ((lower === 'rport' && value === undefined && key === 'rport') || (!['branch', 'rport', 'received', 'ttl', 'maddr'].includes(lower) && tokenChars.test(key) && !key.includes('%') && (value === undefined || (tokenChars.test(value) && !value.includes('%'))))) {
      const params = (via.params ??= {}) as Record<string, string | undefined>;
      params[lower] = value;
    } else return undefined;
  }
  return via;
}

function plainCallId(value: string): string | undefined {
  return /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/.test(value) ? value : undefined;
}

function plainNumber(value: string): number | undefined {
  return /^\d{1,9}$/.test(value) ? parseInt(value, 10) : undefined;
}

function plainContentType(value: string): string | undefined {
  return /^(?:text|image|audio|video|application|message|multipart)\/[A-Za-z0-9\-.!*_+`'~]+$/i.test(value) && !value.includes('%') ? value : undefined;
}

function plainCSeq(value: string): { value: number; method: string } | undefined {
  const match = /^(\d{1,9}) ([A-Za-z]+)$/.exec(value);
  if (!match || startsWithKeyword(match[2]!, grammarMethods)) return undefined;
  return { value: parseInt(match[1]!, 10), method: match[2]! };
}

/** `METHOD sip-uri SIP/2.0` or `SIP/2.0 NNN reason`, in their plain shapes. */
/**
 * A status line whose reason phrase is outside RFC 3261 §25.1's Reason-Phrase: a control character, or `[ ] < > "`
 * (`404 Not Found (no route to [2001:db8::1])`, `200 OK <via ::1>`: servers write such text). sip.js's grammar
 * refuses the response, so a final response (a 302 to follow, a 486, even a 200) was dropped and the call waited for
 * Timer B, or rang on after the answer. Our codec has checked the status line; the phrase only informs a person, and
 * is shown cleaned (privacy/shown-name.ts). So it is read as it came. The one place where this parser accepts what
 * sip.js refuses.
 */
function statusLineAsItCame(line: string): { status: number; reason: string } | undefined {
  const match = /^SIP\/2\.0 ([1-6]\d\d) (.*)$/s.exec(line);
  return match ? { status: parseInt(match[1]!, 10), reason: match[2]! } : undefined;
}

function plainStartLine(line: string): { method: string; uri: URI } | undefined {
  const parts = line.split(' ');
  if (parts.length !== 3 || parts[2] !== 'SIP/2.0' || !methodToken.test(parts[0]!) || startsWithKeyword(parts[0]!, grammarMethods)) return undefined;
  const uri = plainUri(parts[1]!);
  return uri ? { method: parts[0]!, uri } : undefined;
}
