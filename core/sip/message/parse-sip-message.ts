import { normalizeHeaderName, sharedHeaderName } from './header-names.js';
import { checkAddress } from './name-addr.js';
import { SipParseError } from './sip-parse-error.js';
import { parseCSeq, SipRequest, SipResponse, type SipHeader, type SipMessage } from './sip-message.js';
import { parseRequestUri } from './sip-uri.js';
import { parseVia } from './via.js';

export interface SipParseLimits {
  /** Largest message accepted, in bytes (a UDP datagram cannot exceed 65,535). */
  maxBytes: number;
  maxHeaders: number;
  maxLineLength: number;
}

export const defaultSipParseLimits: SipParseLimits = { maxBytes: 65_535, maxHeaders: 256, maxLineLength: 8_192 };

export interface SipParseOptions {
  limits?: Partial<SipParseLimits>;
  /**
   * Datagram framing (RFC 3261 §18.3): without Content-Length the body runs to the end of the packet, and
   * octets beyond Content-Length are discarded. Stream transports frame before parsing, so this is true there too
   * (they hand over exactly one message).
   */
  datagram?: boolean;
}

const decoder = new TextDecoder('utf-8');
const tokenPattern = /^[A-Za-z0-9!%*_+`'~.-]+$/;

/**
 * Parse one SIP message (RFC 3261 §7). Structural problems throw a SipParseError with a code; the result is
 * not yet semantically checked — call validateSipMessage before acting on it.
 */
export function parseSipMessage(input: Uint8Array | string, options: SipParseOptions = {}): SipMessage {
  const limits = { ...defaultSipParseLimits, ...options.limits };
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  if (bytes.length > limits.maxBytes) throw new SipParseError('TOO_LARGE', `message of ${bytes.length} bytes exceeds ${limits.maxBytes}`);
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0d || bytes[start] === 0x0a)) start++; // RFC 3261 §7.5
  if (start >= bytes.length) throw new SipParseError('EMPTY', 'empty message');
  const headEnd = findHeadEnd(bytes, start);
  if (headEnd === undefined) throw new SipParseError('BAD_HEADER', 'no blank line after the headers');
  const head = decoder.decode(bytes.subarray(start, headEnd.index));
  const lines = unfold(head.split(/\r?\n/), limits);
  const startLine = lines.shift() ?? '';
  const headers: SipHeader[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError('BAD_HEADER', `header line without a name: "${clip(line)}"`);
    const name = line.slice(0, colon).trim();
    if (!tokenPattern.test(name)) throw new SipParseError('BAD_HEADER', `bad header name "${clip(name)}"`);
    headers.push({ name: sharedHeaderName(name), value: line.slice(colon + 1).trim() });
  }
  if (headers.length > limits.maxHeaders) throw new SipParseError('TOO_MANY_HEADERS', `${headers.length} headers exceed ${limits.maxHeaders}`);
  // From here on the header fields are known: an error keeps what was read, so a request can still be answered.
  let message: SipMessage;
  try {
    message = buildMessage(startLine, headers, '');
  } catch (error) {
    if (error instanceof SipParseError && !startLine.startsWith('SIP/')) {
      error.partial = new SipRequest(/^\S*/.exec(startLine)![0], '', headers);
    }
    throw error;
  }
  try {
    message.body = readBody(bytes, headEnd.bodyStart, headers, options.datagram ?? true);
  } catch (error) {
    if (error instanceof SipParseError) error.partial = message;
    throw error;
  }
  return message;
}

function findHeadEnd(bytes: Uint8Array, from: number): { index: number; bodyStart: number } | undefined {
  for (let i = from; i < bytes.length - 1; i++) {
    if (bytes[i] !== 0x0a) continue;
    const index = i > from && bytes[i - 1] === 0x0d ? i - 1 : i;
    if (bytes[i + 1] === 0x0a) return { index, bodyStart: i + 2 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { index, bodyStart: i + 3 };
  }
  // A message that ends right after its last header line with a single CRLF has no body separator at all.
  return undefined;
}

function unfold(raw: string[], limits: SipParseLimits): string[] {
  const out: string[] = [];
  for (const line of raw) {
    if (line.length > limits.maxLineLength) throw new SipParseError('TOO_LARGE', `a line of ${line.length} characters exceeds ${limits.maxLineLength}`);
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 1) {
      out[out.length - 1] += ` ${line.trim()}`; // RFC 3261 §7.3.1 line folding
    } else if (line.length > 0) {
      out.push(line);
    }
  }
  return out;
}

function readBody(bytes: Uint8Array, bodyStart: number, headers: SipHeader[], datagram: boolean): string {
  const lengths = headers.filter((h) => normalizeHeaderName(h.name) === 'content-length');
  const available = bytes.length - bodyStart;
  const lengthHeader = lengths[0];
  if (lengthHeader === undefined) {
    if (!datagram) return '';
    return decoder.decode(bytes.subarray(bodyStart));
  }
  // RFC 4475 §3.3.9: two Content-Lengths frame nothing; like a value that is not a number (§3.1.2.3), a 400.
  if (lengths.length > 1) throw new SipParseError('BAD_CONTENT_LENGTH', `${lengths.length} Content-Length header fields`);
  if (!/^\d{1,9}$/.test(lengthHeader.value)) {
    throw new SipParseError('BAD_CONTENT_LENGTH', `bad Content-Length "${clip(lengthHeader.value)}"`);
  }
  const length = Number(lengthHeader.value);
  if (length > available) {
    throw new SipParseError('TRUNCATED_BODY', `Content-Length ${length} but only ${available} body bytes`);
  }
  return decoder.decode(bytes.subarray(bodyStart, bodyStart + length));
}

function buildMessage(startLine: string, headers: SipHeader[], body: string): SipMessage {
  if (startLine.startsWith('SIP/')) {
    // RFC 3261 §7.2: three digits, then SP (accepted missing when nothing follows, RFC 4475 §3.1.1.13); a longer
    // code is no status line at all (§3.1.2.19).
    const match = /^SIP\/(\d+\.\d+) (\d{3})(?: (.*))?$/.exec(startLine);
    if (!match) throw new SipParseError('BAD_START_LINE', `malformed status line "${clip(startLine)}"`);
    if (match[1] !== '2.0') throw new SipParseError('BAD_VERSION', `unsupported version SIP/${match[1]}`);
    const status = Number(match[2]);
    if (status < 100 || status > 699) throw new SipParseError('BAD_START_LINE', `status ${status} out of range`);
    return new SipResponse(status, match[3] ?? '', headers, body);
  }
  const match = /^([A-Za-z0-9!%*_+`'~.-]+) (\S+) SIP\/(\d+\.\d+)$/.exec(startLine);
  if (!match) throw new SipParseError('BAD_START_LINE', `malformed request line "${clip(startLine)}"`);
  if (match[3] !== '2.0') throw new SipParseError('BAD_VERSION', `unsupported version SIP/${match[3]}`);
  return new SipRequest(match[1]!, match[2]!, headers, body);
}

/** RFC 3261 §7.3.1: header fields that hold one value, so a second line of one makes the message ambiguous (RFC 4475 §3.3.8). */
const singleValued = ['call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-type'];

/** Methods of RFC 3261 and its extensions: a CSeq naming another method is a 400, an unknown one a 501 (RFC 4475 §3.1.2.18). */
const knownMethods = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'INFO', 'PRACK', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);

/**
 * Semantic checks a SIP element needs before it acts (RFC 3261 §8.1.1, §8.2.2, §16.3): mandatory headers present
 * and parseable, single-valued ones once, CSeq method equal to the request method, a Request-URI of a scheme we serve.
 */
export function validateSipMessage(message: SipMessage): void {
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!message.has(name)) throw new SipParseError('MISSING_HEADER', `missing ${name} header`);
  }
  for (const name of singleValued) {
    if (message.headers.filter((h) => normalizeHeaderName(h.name) === name).length > 1) {
      throw new SipParseError('DUPLICATE_HEADER', `more than one ${name} header`);
    }
  }
  if (message.callId.length === 0 || /\s/.test(message.callId)) throw new SipParseError('BAD_HEADER', 'bad Call-ID');
  const cseq = parseCSeq(message.get('cseq') ?? '');
  message.getAll('via').forEach((via, index) => (index === 0 ? message.topVia : parseVia(via))); // the top one is kept for its readers
  checkAddress(message.get('from') ?? '');
  checkAddress(message.get('to') ?? '');
  for (const contact of message.getAll('contact')) if (contact !== '*') checkAddress(contact);
  if (message.kind === 'request') {
    if (cseq.method !== message.method) {
      const code = knownMethods.has(message.method) ? 'BAD_CSEQ' : 'UNKNOWN_METHOD';
      throw new SipParseError(code, `CSeq method ${cseq.method} does not match ${message.method}`);
    }
    parseRequestUri(message.uri);
    // RFC 3261 §20.22 Max-Forwards = 1*DIGIT: leading zeros are fine (RFC 4475 §3.1.1.1).
    const maxForwards = message.get('max-forwards');
    if (maxForwards !== undefined && !/^\d{1,10}$/.test(maxForwards)) {
      throw new SipParseError('BAD_HEADER', `bad Max-Forwards "${clip(maxForwards)}"`);
    }
  }
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
