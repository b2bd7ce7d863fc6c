/**
 * Every lease, provisioning and port failure carries a code; the UI maps codes to words, counters count them.
 * Decode codes (DHCP_*, TFTP_BAD_PACKET, BAD_PORT_RANGE) mean one packet was rejected, never that the phone stopped.
 */
export type LeaseErrorCode =
  // DHCP wire format (RFC 2131 §2, RFC 2132)
  | 'DHCP_TRUNCATED'
  | 'DHCP_OVERSIZED'
  | 'DHCP_BAD_HEADER'
  | 'DHCP_BAD_COOKIE'
  | 'DHCP_BAD_OPTION_LENGTH'
  | 'DHCP_BAD_OPTION_VALUE'
  | 'DHCP_NO_MESSAGE_TYPE'
  | 'BAD_PORT_RANGE'
  // lease negotiation (seed 003 Figs. 5A/5B)
  | 'NO_USABLE_OFFER'
  | 'NAK'
  | 'LEASE_EXPIRED'
  | 'STOPPED'
  | 'TRANSPORT_FAILED'
  | 'ADDRESS_APPLY_FAILED'
  | 'BAD_STORED_LEASE'
  // TFTP (RFC 1350, RFC 2347-2349)
  | 'TFTP_FILE_NOT_FOUND'
  | 'TFTP_ERROR'
  | 'TFTP_TIMEOUT'
  | 'TFTP_BAD_PACKET'
  | 'TFTP_TOO_LARGE'
  | 'TFTP_SIZE_MISMATCH'
  | 'NO_TFTP_SERVER'
  // provisioning file
  | 'BAD_CONFIG'
  // ports and soft switches
  | 'PORT_RANGE_EXHAUSTED'
  | 'PORT_NOT_IN_RANGE'
  | 'NO_MGC'
  | 'MGC_UNREACHABLE';

export class LeaseError extends Error {
  override readonly name = 'LeaseError';
  constructor(
    readonly code: LeaseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A tally of rejected input by error code: what "counted, never a crash" means in snapshots. */
export type RejectCounters = Partial<Record<LeaseErrorCode, number>>;

export function countReject(counters: RejectCounters, code: LeaseErrorCode): void {
  counters[code] = (counters[code] ?? 0) + 1;
}
