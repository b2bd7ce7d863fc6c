/**
 * A name that came over the network (a caller's display name, a URI's user part) as the phone shows it: in the call
 * window, the call list, a desktop notification and the call log. RFC 3261 §25.1 lets a display name carry any
 * character: control characters through a quoted-pair (`\` ESC) and any Unicode as UTF8-NONASCII. So a stranger can
 * send a name that moves the text around it (a right-to-left override, U+202E, makes "gpj.exe" read "exe.jpg"), hides
 * characters or text (zero-width and tag characters), draws over the lines above it (a hundred combining accents) or
 * floods the screen. What is shown:
 * - a line break, tab or other separator control becomes a space, and so do the fillers that draw as a blank (Hangul
 *   fillers, the blank braille cell); runs of white space become one space, trimmed;
 * - every other control, format and default-ignorable character (Unicode's Cc, Cf and Default_Ignorable_Code_Point:
 *   the bidirectional embeddings, overrides, isolates and marks of UAX #9 among them) is dropped, except where a
 *   script or an emoji needs it: a zero-width joiner or non-joiner between two non-ASCII characters, a text or emoji
 *   presentation selector after a non-ASCII character or before a keycap, an ideographic variation selector after an
 *   ideograph (each judged by the visible characters around it, and never two in a row), and the tag characters of a
 *   subdivision flag (🏴, two to six tag letters or digits, U+E007F);
 * - at most three combining marks on one character, and a character (grapheme cluster) of more than 24 UTF-16 units
 *   is cut to its first code point;
 * - a lone UTF-16 surrogate becomes U+FFFD;
 * - at most `maxCharacters` characters as a reader counts them (grapheme clusters, never cut inside one), then "…".
 * The renderer shows the name in an isolate of its own (`<bdi>`), so right-to-left letters stay within it. The raw name
 * stays in the message trace, for support staff.
 */
export const maxShownCharacters = 64;
/** A reason phrase (RFC 3261 §7.2) as shown: the network's words, like a name, and at most this long. */
const maxShownReason = 128;

// eslint-disable-next-line no-control-regex -- separator controls are exactly what this turns into spaces
const separators = /[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029\u115f\u1160\u2800\u3164\uffa0]/g;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** A subdivision flag (Unicode TS #51 tag sequence: 🏴, a region and subdivision in tag letters and digits, cancel tag). */
const flag = '\\u{1F3F4}[\\u{E0061}-\\u{E007A}]{2}[\\u{E0030}-\\u{E0039}\\u{E0061}-\\u{E007A}]{1,4}\\u{E007F}';
/** The invisible characters a script or an emoji may need, judged in a second pass. */
const candidates = '\\u200c\\u200d\\ufe0e\\ufe0f\\u{E0100}-\\u{E01EF}';
// eslint-disable-next-line no-misleading-character-class -- the joiners and selectors are listed one by one, on purpose
const flagOrInvisible = new RegExp(`${flag}|(?![${candidates}])[\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}]`, 'gu');
// eslint-disable-next-line no-misleading-character-class -- the joiners and selectors are listed one by one, on purpose
const candidate = new RegExp(`${flag}|[${candidates}]`, 'gu');
// eslint-disable-next-line no-misleading-character-class -- the joiners and selectors are listed one by one, on purpose
const isCandidate = new RegExp(`^[${candidates}]$`, 'u');
const manyMarks = /(\p{M}{3})\p{M}+/gu;
const spaces = /\s+/gu;
const ideograph = /\p{Ideographic}/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Code units a name is read to at most, per character shown: more could not change what is shown. */
const readPerCharacter = 32;
const maxClusterUnits = 24;

function codePointBefore(text: string, at: number): number | undefined {
  if (at <= 0) return undefined;
  const low = text.charCodeAt(at - 1);
  return low >= 0xdc00 && low <= 0xdfff && at >= 2 ? text.codePointAt(at - 2) : text.codePointAt(at - 1);
}

const units = (codePoint: number): number => (codePoint > 0xffff ? 2 : 1);

function judgeCandidate(match: string, at: number, text: string): string {
  if (match.length > 2) return match; // a subdivision flag
  const character = match.codePointAt(0)!;
  const previous = codePointBefore(text, at);
  if (previous === undefined || isCandidate.test(String.fromCodePoint(previous))) return ''; // never two in a row
  let after = at + match.length; // the next visible character, past any candidates
  while (after < text.length && isCandidate.test(String.fromCodePoint(text.codePointAt(after)!))) after += units(text.codePointAt(after)!);
  const next = text.codePointAt(after);
  const nonAscii = (codePoint: number | undefined): boolean => codePoint !== undefined && codePoint > 0x7f && !isCandidate.test(String.fromCodePoint(codePoint));
  if (character === 0x200c || character === 0x200d) return nonAscii(previous) && nonAscii(next) ? match : '';
  if (character === 0xfe0e || character === 0xfe0f) return nonAscii(previous) || next === 0x20e3 ? match : '';
  return ideograph.test(String.fromCodePoint(previous)) ? match : ''; // an ideographic variation selector
}

export function shownName(text: string, maxCharacters = maxShownCharacters): string {
  const readTo = maxCharacters * readPerCharacter;
  const longer = text.length > readTo;
  const cleaned = (longer ? text.slice(0, readTo) : text)
    .replace(loneSurrogate, '\ufffd')
    .replace(separators, ' ')
    .replace(flagOrInvisible, (match) => (match.length > 2 ? match : ''))
    .replace(candidate, judgeCandidate)
    .replace(manyMarks, '$1')
    .replace(spaces, ' ')
    .trim();
  const clusters: string[] = [];
  for (const { segment } of graphemes.segment(cleaned)) {
    clusters.push(segment.length > maxClusterUnits ? segment.slice(0, units(segment.codePointAt(0)!)) : segment);
    if (clusters.length > maxCharacters) break;
  }
  if (clusters.length > maxCharacters || (longer && clusters.length === maxCharacters)) return `${clusters.slice(0, maxCharacters - 1).join('').trimEnd()}…`;
  return `${clusters.join('')}${longer ? '…' : ''}`;
}

/** A reason phrase from the network (RFC 3261 §7.2) as shown: cleaned as a name is, at most 128 characters. */
export function shownReason(text: string): string {
  return shownName(text, maxShownReason);
}
