/** Every media failure carries a code; the SDP ones become a 488 with the message as reason. */
export type MediaErrorCode =
  | 'BAD_SDP'
  | 'NO_COMMON_CODEC'
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
