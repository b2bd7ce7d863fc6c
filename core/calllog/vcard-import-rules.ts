/** The rules of a vCard import: how much one takes at most (a phone's whole address book fits well within both). */
export const vcardImportLimits = { maxCards: 5000, maxBytes: 1024 * 1024 };

/** A vCard text the address book refuses whole: too large, not vCard, or a card without a name or a number. */
export class ContactVcardError extends Error {
  override readonly name = 'ContactVcardError';
  constructor(
    readonly code: 'VCARD_TOO_LARGE' | 'VCARD_MALFORMED' | 'VCARD_INVALID_CARD',
    message: string,
  ) {
    super(message);
  }
}
