import { describe, expect, it } from 'vitest';
import { dialTargetToUri } from './dial-target.js';

describe('dialTargetToUri', () => {
  it('keeps a household number whole: its dashes are area, building, room and terminal (seed 001 ¶[55])', () => {
    expect(dialTargetToUri('100-1101-1201-1', 'household.lab')).toBe('sip:100-1101-1201-1@household.lab');
    expect(dialTargetToUri(' 100-1101-1201 ', 'household.lab')).toBe('sip:100-1101-1201@household.lab');
  });

  it('still drops a keypad number\'s punctuation', () => {
    expect(dialTargetToUri('03-1234 5678', 'example.org')).toBe('sip:0312345678@example.org');
    expect(dialTargetToUri('(030) 1234-5678', 'example.org')).toBe('sip:03012345678@example.org');
    expect(dialTargetToUri('alice', 'example.org')).toBe('sip:alice@example.org');
  });

  it('takes user@host as a SIP address there, and a pasted name-addr as its URI (as Linphone and MicroSIP do)', () => {
    expect(dialTargetToUri('bob@192.0.2.7', 'example.org')).toBe('sip:bob@192.0.2.7');
    expect(dialTargetToUri(' bob@[2001:db8::7]:5070 ', 'example.org')).toBe('sip:bob@[2001:db8::7]:5070');
    expect(dialTargetToUri('"Bob Smith" <sip:bob@pbx.example.com;transport=tcp>', 'example.org')).toBe('sip:bob@pbx.example.com;transport=tcp');
    expect(dialTargetToUri('<sips:carol@example.net>', 'example.org')).toBe('sips:carol@example.net');
    expect(dialTargetToUri('Bob <tel:+81312345678>', 'example.org')).toBe('tel:+81312345678');
    for (const bad of ['bob@', '@host', 'a@b@c', '<http://example.com>', '<>', 'bob smith@host', 'sip:bob@h?Replaces=abc%3Bto-tag%3D1', '"Bob" <sip:bob@h?Route=%3Csip:evil%3E>']) expect(() => dialTargetToUri(bad, 'example.org'), bad).toThrowError(expect.objectContaining({ code: 'INVALID_TARGET' }));
  });
});
