/** Every failure the phone reports to a host carries one of these codes; the UI maps codes to words. */
export const phoneErrorCodes = [
  'UNKNOWN_ACCOUNT',
  'UNKNOWN_CALL',
  'UNKNOWN_CONTACT',
  'INVALID_TARGET',
  'INVALID_ARGUMENT',
  'INVALID_STATE',
  'NOT_REGISTERED',
  'REGISTER_FAILED',
  'TRANSPORT_FAILED',
  /** The server's TLS certificate was not trusted, or the TLS handshake failed (never retried in the clear). */
  'TLS_FAILED',
  'CALL_FAILED',
  'TRANSFER_FAILED',
  'MEDIA_FAILED',
  'PORT_RANGE_EXHAUSTED',
  'TOO_MANY_CALLS',
  'ADDRESS_FAILED',
  'LEASE_FAILED',
  'LEASE_LOST',
  'STORAGE_FAILED',
  'EXPORT_FAILED',
  /** A vCard file that could not be imported (malformed, too large, or a card without a name or number). */
  'INVALID_VCARD',
  'INTERNAL',
] as const;

export type PhoneErrorCode = (typeof phoneErrorCodes)[number];

/**
 * The codes of the phone's `error` events besides the failures above: things that went wrong on their own, outside any
 * request of the host's. Each needs words in the UI (renderer/i18n), which a test checks against this list.
 */
export const phoneNoticeCodes = [
  /** Something an earlier run or this one left (a registration, an address) is not removed yet; the phone keeps trying. */
  'CLEANUP_PENDING',
  /** Cleaning up after an earlier run failed outright. */
  'CLEANUP_FAILED',
  /** The SIP stack failed on a message of a call, and the call was ended. */
  'SIP_STACK_FAULT',
  /** Something done on a best-effort basis failed (reported once, then only counted). */
  'BEST_EFFORT_FAILED',
  /** The account moved to its backup server, or back (seed 003). */
  'SERVER_FAILOVER',
  'SERVER_FAILBACK',
] as const;

/** What an `error` event carries. */
export type PhoneEventErrorCode = PhoneErrorCode | (typeof phoneNoticeCodes)[number];

export class PhoneError extends Error {
  override readonly name = 'PhoneError';
  constructor(
    readonly code: PhoneErrorCode,
    message: string,
    /** The SIP status behind the failure, when there is one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The plain shape a PhoneError takes across IPC or WebSocket. */
export interface PhoneErrorShape {
  code: PhoneErrorCode;
  message: string;
  status?: number;
}

export function toPhoneErrorShape(error: unknown): PhoneErrorShape {
  if (error instanceof PhoneError) {
    return error.status === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, status: error.status };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

export function fromPhoneErrorShape(shape: PhoneErrorShape): PhoneError {
  return new PhoneError(shape.code, shape.message, shape.status);
}
