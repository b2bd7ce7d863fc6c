import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CallLogStore } from './call-log-store.js';

describe('the address book in the call log file', () => {
  const scratch: string[] = [];
  afterEach(() => {
    for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('adds, finds by name or number as typed, changes and removes contacts; favourites come first', () => {
    const log = CallLogStore.open(':memory:');
    const book = log.contacts;
    const carol = book.save({ name: 'Carol Wu', numbers: [{ label: 'mobile', number: '090-1234 5678' }, { number: 'sip:carol@example.org' }] }, 1000);
    const bob = book.save({ name: 'Bob Stone', numbers: [{ number: 'bob' }], favourite: true }, 2000);
    expect(carol.numbers).toEqual([{ label: 'mobile', number: '09012345678' }, { number: 'sip:carol@example.org' }]);
    expect(book.search('').map((c) => c.name)).toEqual(['Bob Stone', 'Carol Wu']);
    expect(book.search('wu').map((c) => c.name)).toEqual(['Carol Wu']);
    expect(book.search('0901').map((c) => c.name)).toEqual(['Carol Wu']);
    expect(book.search('090-12').map((c) => c.name)).toEqual(['Carol Wu']); // typed with a dash, stored without
    expect(book.search('example.org').map((c) => c.name)).toEqual(['Carol Wu']);
    expect(book.search('%').map((c) => c.name)).toEqual([]); // a LIKE wildcard is only a character
    expect(book.findByNumber('090 1234 5678')?.id).toBe(carol.id);
    const changed = book.save({ id: carol.id, name: 'Carol Wu-Lee', numbers: [{ number: 'carol' }], anonymous: true }, 3000);
    expect(changed).toMatchObject({ id: carol.id, createdAt: 1000, updatedAt: 3000, anonymous: true, favourite: false, numbers: [{ number: 'carol' }] });
    expect(book.findByNumber('09012345678')).toBeUndefined();
    book.remove(bob.id);
    expect(book.search('').map((c) => c.id)).toEqual([carol.id]);
    expect(() => book.remove(bob.id)).toThrow(expect.objectContaining({ code: 'UNKNOWN_CONTACT' }));
    expect(() => book.save({ name: ' ', numbers: [{ number: '1' }] })).toThrow(expect.objectContaining({ code: 'INVALID_CONTACT' }));
    expect(() => book.save({ name: 'X', numbers: [{ number: '  ' }] })).toThrow(expect.objectContaining({ code: 'INVALID_CONTACT' }));
    expect(() => book.save({ id: 'nope', name: 'X', numbers: [{ number: '1' }] })).toThrow(expect.objectContaining({ code: 'UNKNOWN_CONTACT' }));
    log.close();
  });

  it('keeps contacts in the data directory file across a restart (schema migration 4), the file private', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-contacts-'));
    scratch.push(dir);
    const file = path.join(dir, 'calllog.sqlite');
    const first = CallLogStore.open(file);
    first.contacts.save({ name: 'Dave', numbers: [{ number: '0311112222' }], anonymous: true });
    first.close();
    const again = CallLogStore.open(file);
    expect(again.contacts.search('dave')).toMatchObject([{ name: 'Dave', anonymous: true, numbers: [{ number: '0311112222' }] }]);
    again.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
