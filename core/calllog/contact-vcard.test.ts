import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CallLogStore } from './call-log-store.js';
import { contactsToVcard, vcardToContacts } from './contact-vcard.js';
import { vcardImportLimits, type ContactVcardError } from './vcard-import-rules.js';

const fixture = fs.readFileSync(new URL('../../test/fixtures/vcard/phone-export-3.0.vcf', import.meta.url), 'utf8');

describe('contacts as vCard (RFC 6350, RFC 2426)', () => {
  it('exports vCard 4.0 and imports it back: names with commas, numbers, SIP addresses as IMPP, labels, flags', () => {
    const book = CallLogStore.open(':memory:').contacts;
    book.save({ name: 'Wu, Carol; "C"', numbers: [{ label: 'mobile', number: '090-1234 5678' }, { number: 'sip:carol@example.org' }], anonymous: true }, 1);
    book.save({ name: 'Bob ' + 'x'.repeat(90), numbers: [{ number: 'bob' }], favourite: true }, 2);
    const text = contactsToVcard(book.search(''));
    expect(text).toContain('VERSION:4.0\r\n');
    expect(text).toContain('IMPP:sip:carol@example.org\r\n');
    expect(text).toContain('FN:Wu\\, Carol; "C"\r\n');
    expect(text).toMatch(/\r\n /); // the long name is folded (RFC 6350 §3.2)
    const back = vcardToContacts(text);
    expect(back).toEqual(book.search('').map((c) => ({ name: c.name, numbers: c.numbers, anonymous: c.anonymous, favourite: c.favourite, uid: `urn:uuid:${c.id}` })));
  });

  it('imports a vCard 3.0 file as a phone address book writes it: item1. groups, TYPE=CELL, escaped commas, folded lines', () => {
    expect(vcardToContacts(fixture)).toEqual([
      { name: 'Tanaka, Hanako', numbers: [{ label: 'mobile', number: '+81 90-1234-5678' }, { label: 'work', number: '03-1234 5678' }], anonymous: false, favourite: false },
      { name: 'Bob', numbers: [{ label: 'home', number: '555 0100' }], anonymous: false, favourite: false },
    ]);
  });

  it('rejects bad files with a typed error naming the card, and imports nothing', () => {
    const book = CallLogStore.open(':memory:').contacts;
    const bad = fixture + 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody\r\nEND:VCARD\r\n';
    const err = (() => {
      try {
        book.importAll(vcardToContacts(bad));
      } catch (e) {
        return e as ContactVcardError;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ code: 'VCARD_INVALID_CARD', message: 'card 3 (Nobody) has no TEL or IMPP' });
    expect(book.search('')).toEqual([]);
    expect(() => vcardToContacts('hello')).toThrow(expect.objectContaining({ code: 'VCARD_MALFORMED' }));
    expect(() => vcardToContacts('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nTEL:1\r\n')).toThrow(expect.objectContaining({ code: 'VCARD_MALFORMED' }));
    expect(() => vcardToContacts('BEGIN:VCARD\r\nVERSION:2.1\r\nFN:A\r\nTEL:1\r\nEND:VCARD\r\n')).toThrow(expect.objectContaining({ code: 'VCARD_INVALID_CARD', message: expect.stringContaining('card 1 (A): VERSION') }));
    expect(() => vcardToContacts('BEGIN:VCARD\r\n' + 'x'.repeat(vcardImportLimits.maxBytes))).toThrow(expect.objectContaining({ code: 'VCARD_TOO_LARGE' }));
    const many = 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nTEL:1\r\nEND:VCARD\r\n'.repeat(vcardImportLimits.maxCards + 1);
    expect(() => vcardToContacts(many)).toThrow(expect.objectContaining({ code: 'VCARD_TOO_LARGE' }));
  });

  it('imports in one transaction: a failing card rolls the others back', () => {
    const book = CallLogStore.open(':memory:').contacts;
    expect(() => book.importAll([{ name: 'A', numbers: [{ number: '1' }] }, { name: ' ', numbers: [{ number: '2' }] }])).toThrow(expect.objectContaining({ code: 'INVALID_CONTACT' }));
    expect(book.search('')).toEqual([]);
    expect(book.importAll(vcardToContacts(fixture))).toEqual({ added: 2, updated: 0, unchanged: 0 });
    expect(book.search('').map((c) => c.name)).toEqual(['Bob', 'Tanaka, Hanako']);
  });

  it('re-importing a file adds nobody twice: cards without UID match by name and the same numbers, exported ones by UID', () => {
    const book = CallLogStore.open(':memory:').contacts;
    expect(book.importAll(vcardToContacts(fixture))).toEqual({ added: 2, updated: 0, unchanged: 0 });
    expect(book.importAll(vcardToContacts(fixture))).toEqual({ added: 0, updated: 0, unchanged: 2 });
    // the same person written differently ("03 1234-5678" is the same keypad number, numbers in another order)
    const reordered = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:tanaka\\, hanako\r\nTEL:03 1234-5678\r\nTEL:+81 90 1234 5678\r\nEND:VCARD\r\n';
    expect(book.importAll(vcardToContacts(reordered))).toEqual({ added: 0, updated: 1, unchanged: 0 });
    expect(book.all()).toHaveLength(2);

    // an exported book: renamed in another application, the UID still finds it; a second copy of the file changes nothing
    const exported = contactsToVcard(book.all());
    const renamed = exported.replace('FN:Bob\r\n', 'FN:Robert\r\n');
    expect(book.importAll(vcardToContacts(renamed))).toEqual({ added: 0, updated: 1, unchanged: 1 });
    expect(book.all().map((c) => c.name).sort()).toEqual(['Robert', 'tanaka, hanako']);
    expect(book.importAll(vcardToContacts(renamed))).toEqual({ added: 0, updated: 0, unchanged: 2 });

    // a foreign UID lands on the same contact every time; a different person with the same name is added
    const foreign = 'BEGIN:VCARD\r\nVERSION:4.0\r\nUID:abc@example.org\r\nFN:Carol\r\nTEL:700\r\nEND:VCARD\r\n';
    expect(book.importAll(vcardToContacts(foreign))).toEqual({ added: 1, updated: 0, unchanged: 0 });
    expect(book.importAll(vcardToContacts(foreign.replace('TEL:700', 'TEL:701')))).toEqual({ added: 0, updated: 1, unchanged: 0 });
    expect(book.importAll(vcardToContacts('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Carol\r\nTEL:999\r\nEND:VCARD\r\n'))).toEqual({ added: 1, updated: 0, unchanged: 0 });
    expect(book.all().map((c) => c.name).sort()).toEqual(['Carol', 'Carol', 'Robert', 'tanaka, hanako']);
  });
});
