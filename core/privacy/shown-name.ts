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
 *   ideograph, and the tag characters of a subdivision flag (🏴 … U+E007F);
 * - at most three combining marks on one character;
 * - a lone UTF-16 surrogate becomes U+FFFD;
 * - at most `maxCharacters` characters as a reader counts them (grapheme clusters, never cut inside one), then "…".
 * The renderer shows the name in an isolate of its own (`<bdi>`), so right-to-left letters stay within it. The raw name
 * stays in the message trace, for support staff.
 */
export const maxShownCharacters = 64;

// eslint-disable-next-line no-control-regex -- separator controls are exactly what this turns into spaces
const separators = /[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029\u115f\u1160\u2800\u3164\uffa0]/g;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** A subdivision flag (kept whole), or one invisible character (judged by its neighbours). */
const flagOrInvisible = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}|[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const manyMarks = /(\p{M}{3})\p{M}+/gu;
const spaces = /\s+/gu;
const ideograph = /\p{Ideographic}/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function before(text: string, at: number): number | undefined {
  if (at <= 0) return undefined;
  const low = text.charCodeAt(at - 1);
  return low >= 0xdc00 && low <= 0xdfff && at >= 2 ? text.codePointAt(at - 2) : text.codePointAt(at - 1);
}

function keepInvisible(match: string, at: number, text: string): string {
  if (match.length > 2) return match; // a subdivision flag
  const character = match.codePointAt(0)!;
  const previous = before(text, at);
  const next = text.codePointAt(at + match.length);
  const nonAscii = (codePoint: number | undefined): boolean => codePoint !== undefined && codePoint > 0x7f;
  if (character === 0x200c || character === 0x200d) return nonAscii(previous) && nonAscii(next) ? match : '';
  if (character === 0xfe0e || character === 0xfe0f) return nonAscii(previous) || next === 0x20e3 ? match : '';
  if (character >= 0xe0100 && character <= 0xe01ef) return previous !== undefined && ideograph.test(String.fromCodePoint(previous)) ? match : '';
  return '';
}

export function shownName(text: string, maxCharacters = maxShownCharacters): string {
  const cleaned = text.replace(loneSurrogate, '\ufffd').replace(separators, ' ').replace(flagOrInvisible, keepInvisible).replace(manyMarks, '$1').replace(spaces, ' ').trim();
  const clusters = Array.from(graphemes.segment(cleaned), (segment) => segment.segment);
  return clusters.length <= maxCharacters ? cleaned : `${clusters.slice(0, maxCharacters - 1).join('').trimEnd()}…`;
}
