/**
 * Why a TLS connection to a SIP server failed (RFC 3261 §26.2, RFC 5922 §7). The phone never falls back to cleartext
 * after one of these: the identity fails with the code and the UI and CLI say it in words.
 */
export type TlsErrorCode =
  /** The certificate chains to no CA the account trusts (self-signed, unknown issuer, bad signature). */
  | 'CERT_UNTRUSTED'
  /** The certificate has expired or is not valid yet. */
  | 'CERT_EXPIRED'
  /** The certificate is for another host than the server the account names (RFC 5922 §7.2). */
  | 'CERT_NAME_MISMATCH'
  /** The certificate is not the one the account pins (its SHA-256 fingerprint differs). */
  | 'CERT_FINGERPRINT_MISMATCH'
  /** The handshake failed: no common protocol or cipher, the peer closed or reset, or spoke no TLS. */
  | 'HANDSHAKE_FAILED'
  /** The peer accepted the connection but did not finish the handshake in time (a stalled server). */
  | 'HANDSHAKE_TIMEOUT'
  /** The account's CA file cannot be read or holds no certificate. */
  | 'CA_FILE_UNREADABLE'
  /** A pinned fingerprint that is not 32 bytes of hex. */
  | 'BAD_FINGERPRINT';

export class TlsError extends Error {
  override readonly name = 'TlsError';
  constructor(
    readonly code: TlsErrorCode,
    message: string,
    /** OpenSSL's or Node's own code, when there is one (`DEPTH_ZERO_SELF_SIGNED_CERT`…). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

const untrusted = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_REVOKED',
]);
const expired = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD']);

/** A Node or OpenSSL failure of a TLS client connection to `server`, as a TlsError with words a user can act on. */
export function tlsErrorFrom(error: unknown, server: string): TlsError {
  if (error instanceof TlsError) return error;
  const code = String((error as NodeJS.ErrnoException).code ?? '');
  const reason = (error as Error).message;
  if (untrusted.has(code)) {
    return new TlsError('CERT_UNTRUSTED', `the certificate of ${server} is not trusted (${reason}): it is self-signed or signed by a CA this account does not trust`, code);
  }
  if (expired.has(code)) {
    return new TlsError('CERT_EXPIRED', `the certificate of ${server} ${code === 'CERT_NOT_YET_VALID' ? 'is not valid yet' : 'has expired'} (${reason})`, code);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new TlsError('CERT_NAME_MISMATCH', `the certificate of ${server} is for another host: ${reason}`, code);
  }
  return new TlsError('HANDSHAKE_FAILED', `the TLS handshake with ${server} failed: ${reason}`, code || undefined);
}
