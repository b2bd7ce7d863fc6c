import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Contact, ContactInput, ContactNumber } from '../api/contact-types.js';
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
    const name = input.name.trim();
    if (name.length === 0) throw new ContactBookError('INVALID_CONTACT', 'a contact needs a name');
    const numbers = input.numbers.map((n) => ({ ...(n.label?.trim() ? { label: n.label.trim() } : {}), number: comparableNumber(n.number) })).filter((n) => n.number.length > 0);
    if (numbers.length === 0) throw new ContactBookError('INVALID_CONTACT', 'a contact needs a number, user or SIP address');
    const existing = input.id !== undefined ? this.get(input.id) : undefined;
    if (input.id !== undefined && !existing) throw new ContactBookError('UNKNOWN_CONTACT', `no contact ${input.id}`);
    const contact: Contact = {
      id: existing?.id ?? randomUUID(),
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

  /** Add every contact in one transaction: one that fails to save leaves the book as it was (vCard import). */
  saveAll(inputs: readonly ContactInput[], now = Date.now()): Contact[] {
    return this.db.transaction(() => inputs.map((input) => this.save({ ...input, id: undefined }, now)))();
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
