import { canRespondTo, createResponse, reasonPhrases } from './create-response.js';
import { parseSipMessage, validateSipMessage, type SipParseOptions } from './parse-sip-message.js';
import { randomToken } from './random-token.js';
import { SipParseError } from './sip-parse-error.js';
import type { SipMessage, SipResponse } from './sip-message.js';

/** What a receiving element makes of one message off the wire. */
export type InboundVerdict =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      error: SipParseError;
      /** As much of the message as could be read, for the trace. */
      message?: SipMessage;
      /** The answer a rejected request gets, when it can be answered at all. */
      reply?: SipResponse;
    };

/**
 * Parse and validate one message. A request that fails is answered when it names a Via and a CSeq, with the status
 * its fault deserves (400, 416, 501, 505; RFC 3261 §16.3, §8.2, §18.3; RFC 4475 §3.1.2, §3.3), never an ACK
 * (§17.1.1.3); a response that fails is dropped. Nothing here throws.
 */
export function inspectInbound(data: Uint8Array | string, options?: SipParseOptions): InboundVerdict {
  let message: SipMessage | undefined;
  try {
    message = parseSipMessage(data, options);
    validateSipMessage(message);
    return { ok: true, message };
  } catch (caught) {
    const error = caught instanceof SipParseError ? caught : new SipParseError('BAD_HEADER', (caught as Error).message);
    message ??= error.partial;
    if (message?.kind !== 'request' || message.method === 'ACK' || !canRespondTo(message)) {
      return message ? { ok: false, error, message } : { ok: false, error };
    }
    // The reason names the fault; it quotes the peer's bytes, so nothing in it may break the status line.
    const reason = printable(`${reasonPhrases[error.status] ?? 'Bad Request'} (${error.message})`).slice(0, 120);
    return { ok: false, error, message, reply: createResponse(message, error.status, reason, randomToken(10)) }; // §8.2.6.2: with a To tag
  }
}

/** Control characters (CR and LF among them) replaced, so quoted bytes cannot end the status line early. */
function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? '?' : ch;
  }
  return out;
}
