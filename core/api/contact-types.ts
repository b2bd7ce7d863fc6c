/** One way to reach a contact: a number, a user name or a SIP URI, with an optional label ("work", "mobile"). */
export interface ContactNumber {
  label?: string;
  number: string;
}

/** An address-book entry (issue 22 item 5), kept in the data directory's SQLite file. */
export interface Contact {
  id: string;
  name: string;
  numbers: ContactNumber[];
  /** Always call this contact anonymously (the account's withholding mode, or the privacy header). */
  anonymous: boolean;
  favourite: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What the UI sends to add (no id) or change (with id) a contact. */
export type ContactInput = Pick<Contact, 'name' | 'numbers'> & Partial<Pick<Contact, 'id' | 'anonymous' | 'favourite'>>;

/** The most contacts one search returns. */
export const contactSearchLimit = 50;

/** What a vCard import did: contacts added, changed (matched by UID, or by name and numbers), and already as in the file. */
export interface ContactImportResult {
  added: number;
  updated: number;
  unchanged: number;
}

/** The address book as a vCard file (RFC 6350) for the UI to save. */
export interface ContactFile {
  fileName: string;
  mimeType: 'text/vcard';
  data: string;
  contacts: number;
}
