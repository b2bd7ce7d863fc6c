import { describe, expect, it } from 'vitest';
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
    ['Your\vBank\fof\x85the\x1fWorld', 'Your Bank of the World'], // separator controls are spaces
    ['B\u200Dank \u200Cx', 'Bank x'], // joiners between ASCII letters only make look-alikes
    ['a\u180Eb\uFFF9c\uFFFAd\uFFFBe\u206Af\u034Fg\u17B4h', 'abcdefgh'], // format and default-ignorable characters
    ['\u{E0001}\u{E0041}\u{E0042}hidden', 'hidden'], // tag characters outside a flag smuggle text
    ['🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F} England', '🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F} England'],
    ['1\uFE0F\u20E3 ❤\uFE0F A\uFE0FB\uFE00', '1\uFE0F\u20E3 ❤\uFE0F AB'], // presentation selectors where emoji need them
    ['\u845B\u{E0100}\u5927 a\u{E0100}', '\u845B\u{E0100}\u5927 a'], // an ideographic variation selector after an ideograph
    ['\u3164\u3164 \u115F\u1160\uFFA0\u2800', ''], // fillers that draw as blanks are white space
    [`a${'\u0301'.repeat(100)}b`, 'a\u0301\u0301\u0301b'], // at most three combining marks on one character
    ['\u0928\u092E\u0938\u094D\u0924\u0947 \u0645\u062D\u0645\u062F \u5C71\u7530 \uD55C\uAD6D', '\u0928\u092E\u0938\u094D\u0924\u0947 \u0645\u062D\u0645\u062F \u5C71\u7530 \uD55C\uAD6D'],
  ])('%j → %j', (raw, shown) => {
    expect(shownName(raw)).toBe(shown);
  });

  it('judges a joiner or selector by the visible characters around it, and lets none through in a row', () => {
    expect(shownName('B\u200B\u200D\u200Bank')).toBe('Bank');
    expect(shownName('a\u200D\u200D\u200Db')).toBe('ab');
    expect(shownName('A\u200B\uFE0FB')).toBe('AB');
    expect(shownName('👩\u200D\u200D\u200D💻')).toBe('👩\u200D💻');
    expect(shownName('❤\uFE0F\uFE0F\uFE0F')).toBe('❤\uFE0F');
  });

  it('keeps a flag only as a real subdivision tag sequence, and no character longer than 24 UTF-16 units', () => {
    const smuggled = `🏴${String.fromCodePoint(...Array.from('hidden text here', (c) => 0xe0000 + c.charCodeAt(0)))}\u{E007F}`;
    expect(shownName(`${smuggled}x`)).toBe('🏴x');
    expect(shownName(`e${'\u0301\u0301\u0301\u200D'.repeat(200)}x`)).toBe('ex'); // one cluster of 800 units
    expect(shownName(`e${'\u0301\u0301\u0301\u200D'.repeat(16_000)}x`)).toBe('e…'); // read no further than it shows
  });

  it('reads a long name only as far as what it shows, and says it was cut', () => {
    const long = `${'a'.repeat(63)}${'\u200B'.repeat(100_000)}b`;
    expect(shownName(long)).toBe(`${'a'.repeat(63)}…`);
    const start = performance.now();
    for (let i = 0; i < 20; i++) shownName('x'.repeat(65_536));
    expect(shownName('x'.repeat(65_536))).toBe(`${'x'.repeat(63)}…`);
    expect(performance.now() - start).toBeLessThan(5_000); // bounded work, not a benchmark: 64 KB used to take ~1 s each
  });

  it('keeps at most 64 characters, counting code points, and ends a cut name with "…"', () => {
    expect(shownName('x'.repeat(64))).toBe('x'.repeat(64));
    expect(shownName('x'.repeat(65))).toBe(`${'x'.repeat(63)}…`);
    const faces = '😀'.repeat(100); // two UTF-16 units each: never cut in half
    expect(Array.from(shownName(faces))).toHaveLength(64);
    expect(shownName(faces)).toBe(`${'😀'.repeat(63)}…`);
    expect(shownName(`${'a '.repeat(40)}`, 10)).toBe('a a a a a…');
    // a reader's characters: an emoji family (five code points) is one, and is never cut in two
    const family = '👨\u200D👩\u200D👧';
    expect(shownName(`${'x'.repeat(62)}${family}yy`)).toBe(`${'x'.repeat(62)}${family}…`);
    expect(shownName(`${'x'.repeat(62)}${family}y`)).toBe(`${'x'.repeat(62)}${family}y`);
  });
});
