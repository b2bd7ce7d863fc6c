import { SipParseError } from '../message/index.js';

export interface StreamFramerLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

const defaultFramerLimits: StreamFramerLimits = { maxHeaderBytes: 16_384, maxBodyBytes: 65_536 };

/**
 * Cuts a TCP byte stream into SIP messages (RFC 3261 §18.3: on streams Content-Length is mandatory and frames
 * the body). Leading CRLFs are keepalives (RFC 5626 §3.5.1): a double CRLF "ping" is reported so the caller can
 * answer with a single CRLF "pong". A framing error is fatal for the connection: the stream can no longer be
 * trusted to be aligned on a message boundary.
 */
export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onMessage: (message: Buffer) => void,
    private readonly onPing: () => void = () => undefined,
    /** A single CRLF: the answer to our own ping (RFC 5626 §4.4.1). */
    private readonly onPong: () => void = () => undefined,
    private readonly limits: StreamFramerLimits = defaultFramerLimits,
  ) {}

  /** A message has begun and not ended (keep-alive CRLFs are never kept). */
  get midMessage(): boolean {
    return this.buffer.length > 0;
  }

  /** Feed bytes; throws SipParseError when the stream is beyond repair. */
  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      let start = 0;
      while (start < this.buffer.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a)) start++;
      if (start > 0) {
        if (start >= 4 && this.buffer.subarray(0, 4).toString('latin1') === '\r\n\r\n') this.onPing();
        else if (start >= 2 && this.buffer.subarray(0, 2).toString('latin1') === '\r\n') this.onPong();
        this.buffer = this.buffer.subarray(start);
      }
      if (this.buffer.length === 0) return;
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        if (this.buffer.length > this.limits.maxHeaderBytes) {
          throw new SipParseError('TOO_LARGE', `no end of headers within ${this.limits.maxHeaderBytes} bytes`);
        }
        return;
      }
      if (headEnd > this.limits.maxHeaderBytes) throw new SipParseError('TOO_LARGE', 'headers too large');
      const head = this.buffer.subarray(0, headEnd).toString('utf8');
      const matches = [...head.matchAll(/^(?:content-length|l)[ \t]*:[ \t]*(\S*)[ \t]*$/gim)];
      const match = matches[0];
      if (!match) throw new SipParseError('BAD_CONTENT_LENGTH', 'Content-Length is mandatory on stream transports');
      // RFC 4475 §3.3.9: two of them frame nothing, and the stream cannot be trusted after this message.
      if (matches.length > 1) throw new SipParseError('BAD_CONTENT_LENGTH', `${matches.length} Content-Length header fields`);
      const lengthText = match[1] ?? '';
      if (!/^\d{1,9}$/.test(lengthText)) throw new SipParseError('BAD_CONTENT_LENGTH', `bad Content-Length "${lengthText.slice(0, 20)}"`);
      const length = Number(lengthText);
      if (length > this.limits.maxBodyBytes) throw new SipParseError('TOO_LARGE', `body of ${length} bytes too large`);
      const total = headEnd + 4 + length;
      if (this.buffer.length < total) return;
      const message = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      this.onMessage(Buffer.from(message));
    }
  }
}
