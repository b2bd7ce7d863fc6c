/** Every media failure carries a code; the SDP ones become a 488 with the message as reason. */
export type MediaErrorCode =
  | 'BAD_SDP'
  | 'NO_COMMON_CODEC'
  /** An `a=crypto` line we cannot use (RFC 4568): SdesError says why. */
  | 'BAD_CRYPTO'
  /** Media encryption is required and the peer offered or answered none we can use. */
  | 'NO_COMMON_CRYPTO'
  | 'PORT_RANGE_EXHAUSTED'
  | 'SOCKET_FAILED'
  | 'UNSUPPORTED_WAV'
  | 'WAV_UNREADABLE'
  | 'BAD_DTMF'
  | 'CLOSED';

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
  }
}
