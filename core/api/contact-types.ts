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
