export type AddressErrorCode =
  | 'NO_PREFIX'
  /** No address server (DHCP) leased an address. */
  | 'NO_LEASE'
  | 'BAD_PREFIX'
  | 'APPLY_FAILED'
  | 'DAD_FAILED'
  | 'NOT_PERMITTED'
  | 'POOL_EXHAUSTED'
  | 'JOURNAL_FAILED'
  | 'TOOL_MISSING';

/** A temporary-address failure, with a code the phone and the UI map to words. */
export class AddressError extends Error {
  override readonly name = 'AddressError';
  constructor(
    readonly code: AddressErrorCode,
    message: string,
    /** The address may still be on the interface: it could not be removed after the failure. */
    readonly leftBehind = false,
  ) {
    super(message);
  }
}
