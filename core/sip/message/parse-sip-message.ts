import { normalizeHeaderName } from './header-names.js';
import { parseNameAddr } from './name-addr.js';
import { SipParseError } from './sip-parse-error.js';
import { parseCSeq, SipRequest, SipResponse, type SipHeader, type SipMessage } from './sip-message.js';
import { parseSipUri } from './sip-uri.js';
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
    headers.push({ name, value: line.slice(colon + 1).trim() });
  }
  if (headers.length > limits.maxHeaders) throw new SipParseError('TOO_MANY_HEADERS', `${headers.length} headers exceed ${limits.maxHeaders}`);
  const body = readBody(bytes, headEnd.bodyStart, headers, options.datagram ?? true);
  return buildMessage(startLine, headers, body);
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
  const lengthHeader = headers.find((h) => normalizeHeaderName(h.name) === 'content-length');
  const available = bytes.length - bodyStart;
  if (lengthHeader === undefined) {
    if (!datagram) return '';
    return decoder.decode(bytes.subarray(bodyStart));
  }
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
    const match = /^SIP\/(\d+\.\d+) (\d{3}) ?(.*)$/.exec(startLine);
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

/**
 * Semantic checks a SIP element needs before it acts (RFC 3261 §8.1.1, §8.2.2, §16.3): mandatory headers present
 * and parseable, CSeq method equal to the request method, a parseable Request-URI.
 */
export function validateSipMessage(message: SipMessage): void {
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!message.has(name)) throw new SipParseError('MISSING_HEADER', `missing ${name} header`);
  }
  if (message.callId.length === 0 || /\s/.test(message.callId)) throw new SipParseError('BAD_HEADER', 'bad Call-ID');
  const cseq = parseCSeq(message.get('cseq') ?? '');
  message.getAll('via').forEach(parseVia);
  parseNameAddr(message.get('from') ?? '');
  parseNameAddr(message.get('to') ?? '');
  if (message.kind === 'request') {
    parseSipUri(message.uri);
    if (cseq.method !== message.method) {
      throw new SipParseError('BAD_CSEQ', `CSeq method ${cseq.method} does not match ${message.method}`);
    }
    const maxForwards = message.get('max-forwards');
    if (maxForwards !== undefined && !/^\d{1,3}$/.test(maxForwards)) {
      throw new SipParseError('BAD_HEADER', `bad Max-Forwards "${clip(maxForwards)}"`);
    }
  }
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
