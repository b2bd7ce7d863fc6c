/**
 * Why an SRTP or SRTCP packet was refused (RFC 3711 §3.3, §3.4). Inbound ones are counted per code and the packet
 * is dropped; outbound ones mean the caller asked for something SRTP forbids (reusing an index, an exhausted key).
 */
export type SrtpErrorCode =
  /** Shorter than its header, MKI and authentication tag. */
  | 'TOO_SHORT'
  /** Not version 2, or a CSRC list or header extension that runs past the packet. */
  | 'BAD_HEADER'
  /** The authentication tag does not match (RFC 3711 §3.3 step 5): tampered, or another key. */
  | 'AUTH_FAILED'
  /** An index already received inside the replay window (§3.3.2). */
  | 'REPLAYED'
  /** An index older than the replay window reaches (§3.3.2). */
  | 'TOO_OLD'
  /** The MKI names a key we do not have (§3.3 step 2). */
  | 'BAD_MKI'
  /** The master key has protected as many packets as it may (§9.2, or the SDES lifetime). */
  | 'KEY_EXHAUSTED'
  /** Sending the same index twice with one key would reuse the keystream (§9.1). */
  | 'INDEX_REUSED'
  /** More sources (SSRCs) than one session keeps state for. */
  | 'TOO_MANY_STREAMS'
  /** A master key or salt of the wrong length for the suite. */
  | 'BAD_KEY';

export class SrtpError extends Error {
  override readonly name = 'SrtpError';
  constructor(
    readonly code: SrtpErrorCode,
    message: string,
  ) {
    super(message);
  }
}
