import ICAL from 'ical.js';
import type { Contact } from '../api/contact-types.js';
import type { ImportedContact } from './contact-book.js';
import { ContactVcardError, vcardImportLimits } from './vcard-import-rules.js';

const sipScheme = /^sips?:/i;

function labelOf(types: unknown): string | undefined {
  const list = (Array.isArray(types) ? types : typeof types === 'string' ? types.split(',') : []).map((t) => String(t).toLowerCase().trim());
  // RFC 6350 §6.4.1 TYPE values; "pref" and "voice" say nothing a user would call a label.
  const label = list.find((t) => t !== '' && t !== 'pref' && t !== 'voice' && t !== 'internet');
  return label === 'cell' ? 'mobile' : label;
}

/** Contacts as one vCard 4.0 text (RFC 6350), CRLF lines folded at 75 octets by ical.js (RFC 6350 §3.2). */
export function contactsToVcard(contacts: readonly Contact[]): string {
  return contacts
    .map((contact) => {
      const card = new ICAL.Component('vcard');
      card.addPropertyWithValue('version', '4.0');
      card.addPropertyWithValue('fn', contact.name); // RFC 6350 §6.2.1
      card.addPropertyWithValue('n', [contact.name, '', '', '', '']); // RFC 6350 §6.2.2: family name only, the book keeps one name
      for (const n of contact.numbers) {
        // SIP addresses as IMPP (RFC 6350 §6.4.3: "URI for instant messaging and presence protocol communications", RFC 3261 §19.1 sip: URIs);
        // numbers and user names as TEL with a text value (RFC 6350 §6.4.1 allows text for numbers that are not tel: URIs).
        const prop = new ICAL.Property(sipScheme.test(n.number) ? 'impp' : 'tel', card);
        if (sipScheme.test(n.number)) prop.resetType('uri');
        else prop.resetType('text');
        prop.setValue(n.number);
        if (n.label) prop.setParameter('type', n.label);
        card.addProperty(prop);
      }
      if (contact.anonymous) card.addPropertyWithValue('x-veilphone-anonymous', 'TRUE'); // RFC 6350 §6.10 extension properties
      if (contact.favourite) card.addPropertyWithValue('x-veilphone-favourite', 'TRUE');
      card.addPropertyWithValue('uid', `urn:uuid:${contact.id}`); // RFC 6350 §6.7.6
      return card.toString() + '\r\n';
    })
    .join('');
}

function describe(index: number, name: string | undefined): string {
  return `card ${index + 1}${name ? ` (${name})` : ''}`;
}

/**
 * Contacts from a vCard 3.0 (RFC 2426) or 4.0 (RFC 6350) text with any number of cards. All or nothing: the first bad
 * card throws a ContactVcardError naming it, and nothing is returned.
 */
export function vcardToContacts(text: string): ImportedContact[] {
  if (Buffer.byteLength(text, 'utf8') > vcardImportLimits.maxBytes) throw new ContactVcardError('VCARD_TOO_LARGE', `a vCard file may have at most ${vcardImportLimits.maxBytes} bytes`);
  if (!/^\s*BEGIN:VCARD/i.test(text)) throw new ContactVcardError('VCARD_MALFORMED', 'not a vCard file: it must start with BEGIN:VCARD');
  let parsed: unknown;
  try {
    parsed = ICAL.parse(text);
  } catch (e) {
    throw new ContactVcardError('VCARD_MALFORMED', `not a valid vCard file: ${(e as Error).message}`);
  }
  const jcards = (Array.isArray(parsed) && Array.isArray(parsed[0]) ? parsed : [parsed]) as unknown[];
  if (jcards.length > vcardImportLimits.maxCards) throw new ContactVcardError('VCARD_TOO_LARGE', `a vCard file may have at most ${vcardImportLimits.maxCards} cards, this one has ${jcards.length}`);
  return jcards.map((jcard, index) => {
    const card = new ICAL.Component(jcard as unknown[]);
    if (card.name !== 'vcard') throw new ContactVcardError('VCARD_MALFORMED', `${describe(index, undefined)} is a ${card.name}, not a vCard`);
    const version = String(card.getFirstPropertyValue('version') ?? '');
    const fn = String(card.getFirstPropertyValue('fn') ?? '').trim();
    if (version !== '3.0' && version !== '4.0') throw new ContactVcardError('VCARD_INVALID_CARD', `${describe(index, fn)}: VERSION must be 3.0 or 4.0, not "${version}"`);
    let name = fn;
    if (!name) {
      const n = card.getFirstPropertyValue('n') as unknown;
      name = (Array.isArray(n) ? n.flat().filter((p) => typeof p === 'string' && p.trim()).reverse().join(' ') : String(n ?? '')).trim();
    }
    if (!name) throw new ContactVcardError('VCARD_INVALID_CARD', `${describe(index, undefined)} has no FN or N`);
    const numbers = [...card.getAllProperties('tel'), ...card.getAllProperties('impp')].map((prop) => {
      const raw = String(prop.getFirstValue() ?? '').trim();
      const number = raw.replace(/^tel:/i, '').replace(/^impp:/i, '');
      if (/[\r\n\0]/.test(number)) throw new ContactVcardError('VCARD_INVALID_CARD', `${describe(index, name)}: a ${prop.name.toUpperCase()} holds a control character`);
      const label = labelOf(prop.getParameter('type'));
      return { ...(label ? { label } : {}), number };
    }).filter((n) => n.number.length > 0);
    if (numbers.length === 0) throw new ContactVcardError('VCARD_INVALID_CARD', `${describe(index, name)} has no TEL or IMPP`);
    const flag = (p: string): boolean => String(card.getFirstPropertyValue(p) ?? '').toUpperCase() === 'TRUE';
    // RFC 6350 §6.7.6 / RFC 2426 §3.6.7: the UID names the card across exports, so a re-import finds its contact again
    const uid = String(card.getFirstPropertyValue('uid') ?? '').trim();
    if (uid.length > 256 || /[\r\n\0]/.test(uid)) throw new ContactVcardError('VCARD_INVALID_CARD', `${describe(index, name)}: its UID is not one line of at most 256 characters`);
    return { name, numbers, anonymous: flag('x-veilphone-anonymous'), favourite: flag('x-veilphone-favourite'), ...(uid ? { uid } : {}) };
  });
}
