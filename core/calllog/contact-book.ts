import { createHash, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Contact, ContactImportResult, ContactInput, ContactNumber } from '../api/contact-types.js';
import { contactSearchLimit } from '../api/contact-types.js';

export class ContactBookError extends Error {
  override readonly name = 'ContactBookError';
  constructor(
    readonly code: 'UNKNOWN_CONTACT' | 'INVALID_CONTACT',
    message: string,
  ) {
    super(message);
  }
}

interface ContactRow {
  id: string;
  name: string;
  anonymous: number;
  favourite: number;
  created_at: number;
  updated_at: number;
}

/** A number as the book keeps and compares it: what a keypad would send ("03-1234 5678" → "0312345678"). */
export function comparableNumber(number: string): string {
  const text = number.trim();
  return /^[+\d\s().*#-]+$/.test(text) ? text.replace(/[\s().-]/g, '') : text;
}

/** A contact read from a vCard file, with the card's UID when it has one (RFC 6350 §6.7.6). */
export type ImportedContact = Omit<ContactInput, 'id'> & { uid?: string };

/**
 * The contact id a vCard UID stands for: the UUID of a `urn:uuid:` UID (what the book exports, RFC 4122 §3), or a
 * UUID-shaped digest of any other UID, so the same card always lands on the same contact.
 */
export function contactIdForUid(uid: string): string {
  const urn = /^urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(uid.trim());
  if (urn) return urn[1]!.toLowerCase();
  const hex = createHash('sha256').update(`vcard-uid:${uid.trim()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const sameNumbers = (a: readonly ContactNumber[], b: readonly ContactNumber[]): boolean => {
  const key = (list: readonly ContactNumber[]): string => [...new Set(list.map((n) => comparableNumber(n.number).toLowerCase()))].sort().join('\n');
  return key(a) === key(b);
};
const sameContact = (a: Contact, b: Omit<ContactInput, 'id'>): boolean =>
  a.name === b.name.trim() && a.anonymous === (b.anonymous ?? a.anonymous) && a.favourite === (b.favourite ?? a.favourite) &&
  JSON.stringify(a.numbers) === JSON.stringify(b.numbers.map((n) => ({ ...(n.label?.trim() ? { label: n.label.trim() } : {}), number: comparableNumber(n.number) })));

/**
 * The address book in the call log's SQLite file (schema migration 4): contacts with several numbers, searched by
 * name or number as the user types, favourites first. Every write is one transaction.
 */
export class ContactBook {
  constructor(private readonly db: Database.Database) {}

  /** Contacts whose name or a number contains `query` (all when empty), favourites first, then by name. */
  search(query = '', limit = contactSearchLimit): Contact[] {
    const text = query.trim();
    const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const number = `%${comparableNumber(text).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = this.db
      .prepare(
        `SELECT * FROM contacts c WHERE ? = '' OR c.name LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM contact_numbers n WHERE n.contact_id = c.id AND n.number LIKE ? ESCAPE '\\')
         ORDER BY c.favourite DESC, c.name COLLATE NOCASE, c.id LIMIT ?`,
      )
      .all(text, like, number, Math.max(1, Math.min(limit, contactSearchLimit))) as ContactRow[];
    return rows.map((row) => this.withNumbers(row));
  }

  get(id: string): Contact | undefined {
    const row = this.db.prepare('SELECT * FROM contacts WHERE id = ?').get(id) as ContactRow | undefined;
    return row ? this.withNumbers(row) : undefined;
  }

  /** The contact one of whose numbers is `number` (compared as a keypad would send it). */
  findByNumber(number: string): Contact | undefined {
    const row = this.db.prepare('SELECT c.* FROM contacts c JOIN contact_numbers n ON n.contact_id = c.id WHERE n.number = ? COLLATE NOCASE ORDER BY c.favourite DESC, c.id LIMIT 1').get(comparableNumber(number)) as ContactRow | undefined;
    return row ? this.withNumbers(row) : undefined;
  }

  /** Add (no id) or replace (an existing id) a contact; UNKNOWN_CONTACT for an id the book does not have. */
  save(input: ContactInput, now = Date.now()): Contact {
    if (input.id !== undefined && !this.get(input.id)) throw new ContactBookError('UNKNOWN_CONTACT', `no contact ${input.id}`);
    return this.write(input.id ?? randomUUID(), input, now);
  }

  /**
   * A vCard import, all or nothing in one transaction: a card whose UID names a contact replaces it; otherwise a card
   * with a contact's name and the same numbers updates that contact; any other card is added (under the id its UID
   * stands for). Re-importing a file therefore adds nothing twice.
   */
  importAll(cards: readonly ImportedContact[], now = Date.now()): ContactImportResult {
    return this.db.transaction(() => {
      const result: ContactImportResult = { added: 0, updated: 0, unchanged: 0 };
      for (const { uid, ...input } of cards) {
        const byUid = uid !== undefined ? this.get(contactIdForUid(uid)) : undefined;
        const existing = byUid ?? this.findByNameAndNumbers(input.name, input.numbers);
        if (existing && sameContact(existing, input)) result.unchanged++;
        else {
          this.write(existing?.id ?? (uid !== undefined ? contactIdForUid(uid) : randomUUID()), input, now);
          result[existing ? 'updated' : 'added']++;
        }
      }
      return result;
    })();
  }

  /** A contact with this name (any case) and the same numbers, in any order (compared as a keypad would send them). */
  findByNameAndNumbers(name: string, numbers: readonly ContactNumber[]): Contact | undefined {
    const rows = this.db.prepare('SELECT * FROM contacts WHERE name = ? COLLATE NOCASE ORDER BY id').all(name.trim()) as ContactRow[];
    return rows.map((row) => this.withNumbers(row)).find((c) => sameNumbers(c.numbers, numbers));
  }

  /** Every contact, for an export (no search limit). */
  all(): Contact[] {
    return (this.db.prepare('SELECT * FROM contacts ORDER BY favourite DESC, name COLLATE NOCASE, id').all() as ContactRow[]).map((row) => this.withNumbers(row));
  }

  /** Insert or replace the contact `id` (checked: a name and a number). */
  private write(id: string, input: Omit<ContactInput, 'id'>, now: number): Contact {
    const name = input.name.trim();
    if (name.length === 0) throw new ContactBookError('INVALID_CONTACT', 'a contact needs a name');
    const numbers = input.numbers.map((n) => ({ ...(n.label?.trim() ? { label: n.label.trim() } : {}), number: comparableNumber(n.number) })).filter((n) => n.number.length > 0);
    if (numbers.length === 0) throw new ContactBookError('INVALID_CONTACT', 'a contact needs a number, user or SIP address');
    const existing = this.get(id);
    const contact: Contact = {
      id,
      name,
      numbers,
      anonymous: input.anonymous ?? existing?.anonymous ?? false,
      favourite: input.favourite ?? existing?.favourite ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO contacts (id, name, anonymous, favourite, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, anonymous = excluded.anonymous, favourite = excluded.favourite, updated_at = excluded.updated_at')
        .run(contact.id, contact.name, contact.anonymous ? 1 : 0, contact.favourite ? 1 : 0, contact.createdAt, contact.updatedAt);
      this.db.prepare('DELETE FROM contact_numbers WHERE contact_id = ?').run(contact.id);
      const insert = this.db.prepare('INSERT INTO contact_numbers (contact_id, position, label, number) VALUES (?, ?, ?, ?)');
      numbers.forEach((n, i) => insert.run(contact.id, i, n.label ?? null, n.number));
    })();
    return contact;
  }

  remove(id: string): void {
    const result = this.db.prepare('DELETE FROM contacts WHERE id = ?').run(id);
    if (result.changes === 0) throw new ContactBookError('UNKNOWN_CONTACT', `no contact ${id}`);
  }

  private withNumbers(row: ContactRow): Contact {
    const numbers = (this.db.prepare('SELECT label, number FROM contact_numbers WHERE contact_id = ? ORDER BY position').all(row.id) as Array<{ label: string | null; number: string }>).map(
      (n): ContactNumber => ({ ...(n.label !== null ? { label: n.label } : {}), number: n.number }),
    );
    return { id: row.id, name: row.name, numbers, anonymous: row.anonymous === 1, favourite: row.favourite === 1, createdAt: row.created_at, updatedAt: row.updated_at };
  }
}
