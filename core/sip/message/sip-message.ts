import { canonicalHeaderName, isListHeader, normalizeHeaderName } from './header-names.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { SipParseError } from './sip-parse-error.js';
import { splitOutsideQuotes } from './split-list.js';
import { formatVia, parseVia, type ReadonlyVia, type Via } from './via.js';

/** One header line as it appeared (or will appear) on the wire. */
export interface SipHeader {
  name: string;
  value: string;
}

const encoder = new TextEncoder();

/** Bytes a string takes on the wire (Content-Length counts octets, RFC 3261 §20.14). */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** Shared by requests and responses: an ordered header list, a body, and typed accessors. */
abstract class SipMessageBase {
  headers: SipHeader[];
  body: string;
  /**
   * The top Via as last parsed or set, with the text it was read from: a proxy reads the top Via of a message four or
   * five times (validation, §18.2.1 stamping, transaction keys, response routing), a phone's transport twice. Every
   * reader gets the same object, read-only by its type (frozen, it cost more than it saved); a changed top Via text
   * is parsed again.
   */
  private topViaRead: { text: string; via: ReadonlyVia } | undefined;

  constructor(headers: SipHeader[], body: string) {
    this.headers = headers;
    this.body = body;
  }

  abstract startLine(): string;

  /** The first line of `name` (compact forms and case ignored), or undefined. */
  get(name: string): string | undefined {
    const key = normalizeHeaderName(name);
    for (const header of this.headers) if (normalizeHeaderName(header.name) === key) return header.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Every element of `name`, list headers split at top-level commas, in order. */
  getAll(name: string): string[] {
    const key = normalizeHeaderName(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (const header of this.headers) {
      if (normalizeHeaderName(header.name) !== key) continue;
      if (!list) out.push(header.value);
      else for (const element of splitOutsideQuotes(header.value, ',')) out.push(element);
    }
    return out;
  }

  /** Replace every `name` line with one line (or remove them all when value is undefined). */
  set(name: string, value: string | undefined): void {
    const key = normalizeHeaderName(name);
    const index = this.headers.findIndex((h) => normalizeHeaderName(h.name) === key);
    this.headers = this.headers.filter((h) => normalizeHeaderName(h.name) !== key);
    if (value === undefined) return;
    const header = { name: canonicalHeaderName(name), value };
    if (index >= 0) this.headers.splice(index, 0, header);
    else this.headers.push(header);
  }

  remove(name: string): void {
    this.set(name, undefined);
  }

  /** Insert `name: value` above every other header of that name (or at the top when none exists). */
  prepend(name: string, value: string): void {
    const key = normalizeHeaderName(name);
    const index = this.headers.findIndex((h) => normalizeHeaderName(h.name) === key);
    this.headers.splice(index >= 0 ? index : 0, 0, { name: canonicalHeaderName(name), value });
  }

  append(name: string, value: string): void {
    this.headers.push({ name: canonicalHeaderName(name), value });
  }

  /**
   * Remove the first element of a list header (the top Via, the top Route), keeping the rest of its line: the element
   * getAll(name)[0] names, so a line with no element (`Via: `) is passed over, not taken for the top one.
   */
  shift(name: string): string | undefined {
    const key = normalizeHeaderName(name);
    for (let index = 0; index < this.headers.length; index++) {
      const header = this.headers[index]!;
      if (normalizeHeaderName(header.name) !== key) continue;
      const [first, ...rest] = splitOutsideQuotes(header.value, ',');
      if (first === undefined) continue;
      if (rest.length === 0) this.headers.splice(index, 1);
      else this.headers[index] = { name: header.name, value: rest.join(', ') };
      return first;
    }
    return undefined;
  }

  /** Replace every element of a list header with `values`, one per line, at the position of the first. */
  replaceAll(name: string, values: readonly string[]): void {
    const key = normalizeHeaderName(name);
    const index = this.headers.findIndex((h) => normalizeHeaderName(h.name) === key);
    this.headers = this.headers.filter((h) => normalizeHeaderName(h.name) !== key);
    const lines = values.map((value) => ({ name: canonicalHeaderName(name), value }));
    this.headers.splice(index >= 0 ? index : this.headers.length, 0, ...lines);
  }

  get callId(): string {
    return this.get('call-id') ?? '';
  }

  get cseq(): { seq: number; method: string } {
    return parseCSeq(this.get('cseq') ?? '');
  }

  get from(): NameAddr {
    return parseNameAddr(this.get('from') ?? '');
  }

  get to(): NameAddr {
    return parseNameAddr(this.get('to') ?? '');
  }

  get vias(): Via[] {
    return this.getAll('via').map(parseVia);
  }

  get topVia(): ReadonlyVia | undefined {
    const first = this.firstElement('via');
    if (first === undefined) return undefined;
    if (this.topViaRead?.text === first) return this.topViaRead.via;
    const via = parseVia(first);
    this.topViaRead = { text: first, via };
    return via;
  }

  setTopVia(via: ReadonlyVia): void {
    const text = formatVia(via);
    this.shift('via');
    this.prepend('via', text);
    // as the text written reads back (parseVia upper-cases the transport)
    this.topViaRead = { text, via: { ...via, transport: via.transport.toUpperCase(), params: via.params.map((p) => ({ ...p })) } };
  }

  /** The first element of a list header, getAll(name)[0], without splitting every line. */
  private firstElement(name: string): string | undefined {
    const key = normalizeHeaderName(name);
    for (const header of this.headers) {
      if (normalizeHeaderName(header.name) !== key) continue;
      if (header.value.includes(',')) break; // a list on one line: split as getAll does
      const only = header.value.trim();
      if (only.length > 0) return only; // an empty line has no element: the next line's come first
    }
    return this.getAll(name)[0];
  }

  /** Wire form with a correct Content-Length. */
  toString(): string {
    const lines = [this.startLine()];
    for (const h of this.headers) {
      if (normalizeHeaderName(h.name) === 'content-length') continue;
      lines.push(`${h.name}: ${h.value}`);
    }
    lines.push(`Content-Length: ${utf8Length(this.body)}`);
    return `${lines.join('\r\n')}\r\n\r\n${this.body}`;
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  method: string;
  uri: string;

  constructor(method: string, uri: string, headers: SipHeader[], body = '') {
    super(headers, body);
    this.method = method;
    this.uri = uri;
  }

  startLine(): string {
    return `${this.method} ${this.uri} SIP/2.0`;
  }

  clone(): SipRequest {
    return new SipRequest(this.method, this.uri, this.headers.map((h) => ({ ...h })), this.body);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers: SipHeader[], body = '') {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }

  startLine(): string {
    return `SIP/2.0 ${this.status} ${this.reason}`;
  }

  clone(): SipResponse {
    return new SipResponse(this.status, this.reason, this.headers.map((h) => ({ ...h })), this.body);
  }
}

export type SipMessage = SipRequest | SipResponse;

export function parseCSeq(value: string): { seq: number; method: string } {
  // RFC 3261 §20.16: CSeq = 1*DIGIT LWS Method, the method any token (RFC 4475 §3.1.1.2, §3.1.1.5), the number below 2**31.
  const match = /^\s*(\d{1,10})\s+([A-Za-z0-9!%*_+`'~.-]+)\s*$/.exec(value);
  if (!match || Number(match[1]) > 2 ** 31 - 1) throw new SipParseError('BAD_CSEQ', `malformed CSeq "${value.slice(0, 60)}"`);
  return { seq: Number(match[1]), method: match[2]! }; // methods are case-sensitive (RFC 3261 §7.1)
}
