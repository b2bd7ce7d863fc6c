import type { SipMessage } from './sip-message.js';

/** Why a SIP message (or one of its parts) was rejected. */
export type SipParseErrorCode =
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'BAD_START_LINE'
  | 'BAD_VERSION'
  | 'BAD_HEADER'
  | 'DUPLICATE_HEADER'
  | 'TOO_MANY_HEADERS'
  | 'MISSING_HEADER'
  | 'BAD_CSEQ'
  | 'UNKNOWN_METHOD'
  | 'BAD_CONTENT_LENGTH'
  | 'TRUNCATED_BODY'
  | 'BAD_URI'
  | 'UNSUPPORTED_URI_SCHEME'
  | 'BAD_NAME_ADDR'
  | 'BAD_VIA';

/** The response a request rejected for `code` deserves; anything not listed is 400 Bad Request (RFC 3261 §21.4.1). */
const statusOf: Partial<Record<SipParseErrorCode, number>> = {
  BAD_VERSION: 505, // RFC 3261 §21.5.7, RFC 4475 §3.1.2.16
  UNSUPPORTED_URI_SCHEME: 416, // RFC 3261 §8.2.2.1 and §16.3 step 2, RFC 4475 §3.3.2
  UNKNOWN_METHOD: 501, // RFC 3261 §21.5.2, RFC 4475 §3.1.2.18
};

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /**
   * The message as far as it could be read (its header fields, the start line as well as it went), when the error
   * came after the header fields were read: a request can still be answered (RFC 3261 §18.3, RFC 4475 §3.1.2).
   */
  partial?: SipMessage;

  constructor(
    readonly code: SipParseErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** The status of the response a request rejected for this reason gets. */
  get status(): number {
    return statusOf[this.code] ?? 400;
  }
}
