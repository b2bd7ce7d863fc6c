/** Why a signature, a key or a sealed key could not be used. */
export type SigningErrorCode =
  /** A signature parameter that does not follow docs/signing.md. */
  | 'BAD_SIGNATURE_ENCODING'
  /** A signature version this code does not know. */
  | 'UNSUPPORTED_VERSION'
  /** A key window outside what seed 002 ¶[0060] allows, or a rotation period that is not positive. */
  | 'BAD_KEY_WINDOW'
  /** A sealed session key that is malformed, not signed by the pool, or does not decrypt. */
  | 'BAD_SEALED_KEY'
  /** A sealed session key older than its lifetime (¶[0068]). */
  | 'SEALED_KEY_EXPIRED'
  /** A key file (verification keys, pool keys) that cannot be read. */
  | 'BAD_KEY_FILE'
  /** The covered set cannot be built from this message (a header the signature needs does not parse). */
  | 'UNCOVERABLE';

export class SigningError extends Error {
  override readonly name = 'SigningError';
  constructor(
    readonly code: SigningErrorCode,
    message: string,
  ) {
    super(message);
  }
}
