import { describe, expect, it } from 'vitest';
import { partyFrom } from './phone-call.js';
import { shownName } from './shown-name.js';

describe('shownName', () => {
  it.each([
    ['Alice Liddell', 'Alice Liddell'],
    ['  Alice \t\r\n  Liddell  ', 'Alice Liddell'],
    ['\u202Egpj.exe', 'gpj.exe'], // right-to-left override
    ['a\u202Ab\u202Bc\u202Cd\u202De', 'abcde'], // embeddings, pop, left-to-right override
    ['\u2066a\u2067b\u2068c\u2069', 'abc'], // isolates
    ['a\u200Eb\u200Fc\u061Cd', 'abcd'], // marks
    ['b\u200Bo\u2060b\uFEFF\u00AD', 'bob'], // zero-width space, word joiner, BOM, soft hyphen
    ['\x1b[31mred\x07\x7f\x85\x9b', '[31mred'], // C0, DEL, C1
    ['line\u2028break\u2029here\u00A0now', 'line break here now'],
    ['👩\u200D💻 \u0915\u094D\u200C\u0937', '👩\u200D💻 \u0915\u094D\u200C\u0937'], // joiners that scripts and emoji need stay
    ['\uD800x\uDC00', '\uFFFDx\uFFFD'], // lone surrogates
    ['עברית and English', 'עברית and English'], // right-to-left letters themselves stay (the renderer isolates them)
    ['\u202E\u200B\x1b', ''],
  ])('%j → %j', (raw, shown) => {
    expect(shownName(raw)).toBe(shown);
  });

  it('keeps at most 64 characters, counting code points, and ends a cut name with "…"', () => {
    expect(shownName('x'.repeat(64))).toBe('x'.repeat(64));
    expect(shownName('x'.repeat(65))).toBe(`${'x'.repeat(63)}…`);
    const faces = '😀'.repeat(100); // two UTF-16 units each: never cut in half
    expect(Array.from(shownName(faces))).toHaveLength(64);
    expect(shownName(faces)).toBe(`${'😀'.repeat(63)}…`);
    expect(shownName(`${'a '.repeat(40)}`, 10)).toBe('a a a a a…');
  });
});

describe('partyFrom', () => {
  it('shows a cleaned display name, falls back to the user part when nothing of it is left, and keeps the user part to dial', () => {
    expect(partyFrom({ uri: 'sip:eve@example.com', user: 'eve', display: '\u202EEve' })).toEqual({ shown: 'Eve', uri: 'sip:eve@example.com', user: 'eve', display: 'Eve', anonymous: false });
    expect(partyFrom({ uri: 'sip:eve@example.com', user: 'eve', display: '\u202E\u200B' })).toEqual({ shown: 'eve', uri: 'sip:eve@example.com', user: 'eve', anonymous: false });
    expect(partyFrom({ uri: 'sip:e%07ve@example.com', user: 'e\x07ve' })).toMatchObject({ shown: 'eve', user: 'e\x07ve' });
    expect(partyFrom({ uri: 'sip:anonymous@anonymous.invalid', display: 'Anonymous' }, true).shown).toBe('Anonymous');
  });
});
