/** Why a SIP message (or one of its parts) was rejected. */
export type SipParseErrorCode =
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'BAD_START_LINE'
  | 'BAD_VERSION'
  | 'BAD_HEADER'
  | 'TOO_MANY_HEADERS'
  | 'MISSING_HEADER'
  | 'BAD_CSEQ'
  | 'BAD_CONTENT_LENGTH'
  | 'TRUNCATED_BODY'
  | 'BAD_URI'
  | 'BAD_NAME_ADDR'
  | 'BAD_VIA';

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  constructor(
    readonly code: SipParseErrorCode,
    message: string,
  ) {
    super(message);
  }
}
