/** Every failure the phone reports to a host carries one of these codes; the UI maps codes to words. */
export type PhoneErrorCode =
  | 'UNKNOWN_ACCOUNT'
  | 'UNKNOWN_CALL'
  | 'UNKNOWN_CONTACT'
  | 'INVALID_TARGET'
  | 'INVALID_ARGUMENT'
  | 'INVALID_STATE'
  | 'NOT_REGISTERED'
  | 'REGISTER_FAILED'
  | 'TRANSPORT_FAILED'
  /** The server's TLS certificate was not trusted, or the TLS handshake failed (never retried in the clear). */
  | 'TLS_FAILED'
  | 'CALL_FAILED'
  | 'TRANSFER_FAILED'
  | 'MEDIA_FAILED'
  | 'PORT_RANGE_EXHAUSTED'
  | 'TOO_MANY_CALLS'
  | 'ADDRESS_FAILED'
  | 'LEASE_FAILED'
  | 'LEASE_LOST'
  | 'STORAGE_FAILED'
  | 'EXPORT_FAILED'
  /** A vCard file that could not be imported (malformed, too large, or a card without a name or number). */
  | 'INVALID_VCARD'
  | 'INTERNAL';

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
