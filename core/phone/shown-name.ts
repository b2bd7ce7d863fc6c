/**
 * A name that came over the network (a caller's display name, a URI's user part) as the phone shows it: in the call
 * window, the call list, a desktop notification and the call log. RFC 3261 §25.1 lets a display name carry any
 * character: control characters through a quoted-pair (`\` ESC) and any Unicode as UTF8-NONASCII. So a stranger can
 * send a name that moves the text around it (a right-to-left override, U+202E, makes "gpj.exe" read "exe.jpg"), hides
 * characters (zero-width space) or floods the screen. What is shown:
 * - C0 and C1 control characters and DEL are dropped (a tab or line break becomes a space);
 * - the Unicode bidirectional embeddings, overrides, isolates and marks (UAX #9 §2) are dropped, and the renderer
 *   shows the name in an isolate of its own (`<bdi>`), so right-to-left text stays within it;
 * - invisible characters that make two names look alike (zero-width space, word joiner, BOM, soft hyphen) are
 *   dropped; the zero-width joiner and non-joiner stay, since scripts and emoji need them;
 * - a lone UTF-16 surrogate becomes U+FFFD; runs of white space become one space, trimmed;
 * - at most `maxCharacters` characters (code points), then "…".
 * The raw name stays in the message trace, for support staff.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this drops
const hidden = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;
/** Tab, line breaks, U+2028/U+2029 and the other Unicode spaces: one space between words. */
const spaces = /\s+/gu;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export const maxShownCharacters = 64;

export function shownName(text: string, maxCharacters = maxShownCharacters): string {
  const cleaned = text.replace(loneSurrogate, '\ufffd').replace(/[\t\n\r]/g, ' ').replace(hidden, '').replace(spaces, ' ').trim();
  const characters = Array.from(cleaned);
  return characters.length <= maxCharacters ? cleaned : `${characters.slice(0, maxCharacters - 1).join('').trimEnd()}…`;
}
