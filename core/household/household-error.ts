/**
 * Every household failure carries a code (ARCHITECTURE.md "typed errors"); the UI maps codes to words, servers count
 * them. Decode codes (BAD_NUMBER, BAD_MESSAGE) mean one input was refused, never that a process stopped.
 */
export type HouseholdErrorCode =
  /** Not `area-building-room[-terminal]` (seed 001 ¶[55]). */
  | 'BAD_NUMBER'
  /** A management message that is not valid JSON of the documented shape (docs/household.md). */
  | 'BAD_MESSAGE'
  /** No room by that number in the management server's database. */
  | 'UNKNOWN_ROOM'
  /** Fig. 10 step 102 answered with nothing: the management server has no free address left for the room. */
  | 'ROOM_FULL'
  /** Fig. 12: a deletion request for an address the room never allotted. */
  | 'NOT_ALLOTTED'
  /** The room's gateway gave up its addresses (Fig. 11) or never got them. */
  | 'ROOM_VACATED'
  /** The terminal got no allocation from its gateway (no answer, or no address for it). */
  | 'NO_ALLOCATION'
  /** The management server did not answer or answered with an error. */
  | 'MANAGEMENT_UNREACHABLE'
  /** The database on disk could not be read or written. */
  | 'STORE_FAILED';

export class HouseholdError extends Error {
  override readonly name = 'HouseholdError';
  constructor(
    readonly code: HouseholdErrorCode,
    message: string,
  ) {
    super(message);
  }
}
