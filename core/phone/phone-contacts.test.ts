import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { ContactFile } from '../api/contact-types.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { dispatchPhoneCommand } from './phone-api-dispatcher.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';

/** Issue 22 item 5 through PhoneApi: the address book, and a contact's "always call anonymously" honoured by call(). */
describe('Phone contacts', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('keeps contacts through the API (checked input), and calls an always-anonymous contact anonymously even with the switch off; 186 still presents', async () => {
    const network = new MemoryNetwork();
    const lab = await Lab.start({ users: { alice: {}, bob: {} }, timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const events: Record<string, PhoneEvent[]> = { alice: [], bob: [] };
    const make = (user: string): Phone => {
      const phone = new Phone({
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...(user === 'bob' ? { answer: { kind: 'reject' as const, status: 486 } } : {}) }],
        createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
        timers: { t1: 100, t2: 400 },
        sockets: network,
      });
      phone.subscribe((e) => events[user]!.push(e));
      cleanup.push(() => phone.shutdown());
      return phone;
    };
    const alice = make('alice');
    const bob = make('bob');
    await alice.register();
    await bob.register();

    await expect(dispatchPhoneCommand(alice, 'saveContact', [{ name: 'Bob', numbers: [] }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(alice, 'saveContact', [{ name: 'Bob', numbers: [{ number: 'bob\r\nX: y' }] }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(alice, 'removeContact', ['nobody'])).rejects.toMatchObject({ code: 'UNKNOWN_CONTACT' });
    const saved = (await dispatchPhoneCommand(alice, 'saveContact', [{ name: 'Bob', numbers: [{ number: 'bob' }], anonymous: true }])) as { id: string };
    expect(await dispatchPhoneCommand(alice, 'contacts', ['bo'])).toMatchObject([{ id: saved.id, name: 'Bob', anonymous: true }]);

    const incomingAt = (n: number): CallSnapshot | undefined => events.bob!.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.direction === 'incoming').map((e) => e.call).filter((c, i, all) => all.findIndex((x) => x.id === c.id) === i)[n];
    const withheld = await alice.call({ target: 'bob', anonymity: 'none' });
    expect(withheld.anonymity).toBe('header');
    expect((await until(() => incomingAt(0))).remote.anonymous).toBe(true);
    const presented = await alice.call({ target: '186bob', anonymity: 'none' });
    expect(presented.anonymity).toBe('none');
    expect((await until(() => incomingAt(1))).remote).toMatchObject({ anonymous: false, user: 'alice' });
    await alice.removeContact(saved.id);
    const plain = await alice.call({ target: 'bob', anonymity: 'none' });
    expect(plain.anonymity).toBe('none');

    // saved under one way of writing the address, dialled under others: still withheld (the second review)
    const byUri = await alice.saveContact({ name: 'Bob', numbers: [{ number: `sip:bob@${lab.domain}` }], anonymous: true });
    for (const target of ['bob', `bob@${lab.domain}`, `"Bob" <sip:bob@${lab.domain}>`]) expect((await alice.call({ target, anonymity: 'none' })).anonymity, target).toBe('header');
    await alice.removeContact(byUri.id);
    const byUserAtHost = await alice.saveContact({ name: 'Bob', numbers: [{ number: `bob@${lab.domain}` }], anonymous: true });
    expect((await alice.call({ target: `sip:bob@${lab.domain}`, anonymity: 'none' })).anonymity).toBe('header');
    // another contact (a favourite that presents) saved as plain "bob" matches too: the always-anonymous one wins
    await alice.saveContact({ name: 'Bobby', numbers: [{ number: 'bob' }], favourite: true });
    expect((await alice.call({ target: 'bob', anonymity: 'none' })).anonymity).toBe('header');
    await alice.removeContact(byUserAtHost.id);
  });

  it('imports a vCard file through the API without duplicating on re-import, refuses a bad one whole, and exports the book', async () => {
    const phone = new Phone({ accounts: [], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), sockets: new MemoryNetwork() });
    cleanup.push(() => phone.shutdown());
    const file = fs.readFileSync(new URL('../../test/fixtures/vcard/phone-export-3.0.vcf', import.meta.url), 'utf8');
    expect(await dispatchPhoneCommand(phone, 'importContacts', [file])).toEqual({ added: 2, updated: 0, unchanged: 0 });
    expect(await dispatchPhoneCommand(phone, 'importContacts', [file])).toEqual({ added: 0, updated: 0, unchanged: 2 });
    const bad = file + 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody\r\nEND:VCARD\r\n';
    await expect(dispatchPhoneCommand(phone, 'importContacts', [bad.replace(/FN:Bob/, 'FN:Robert')])).rejects.toMatchObject({ code: 'INVALID_VCARD', message: 'card 3 (Nobody) has no TEL or IMPP' });
    await expect(dispatchPhoneCommand(phone, 'importContacts', [42])).rejects.toMatchObject({ code: 'INVALID_VCARD' });
    expect((await phone.contacts()).map((c) => c.name)).toEqual(['Bob', 'Tanaka, Hanako']);

    const exported = (await dispatchPhoneCommand(phone, 'exportContacts', [])) as ContactFile;
    expect(exported).toMatchObject({ fileName: 'veilphone-contacts.vcf', mimeType: 'text/vcard', contacts: 2 });
    expect(exported.data.match(/^BEGIN:VCARD\r\n/gm)).toHaveLength(2);
    // the exported file carries each contact's UID: imported back, it changes nothing
    expect(await phone.importContacts(exported.data)).toEqual({ added: 0, updated: 0, unchanged: 2 });
  });
});
