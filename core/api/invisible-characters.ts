/**
 * Characters that draw nothing or move the text around them: Unicode's Cf and Default_Ignorable_Code_Point (the
 * bidirectional embeddings, overrides, isolates and marks of UAX #9, zero-width and tag characters, variation
 * selectors ...), the control characters other than tab, line feed and carriage return, the line and paragraph
 * separators (U+2028, U+2029: a browser breaks the line there, so a name could pass for a header line of its own) and
 * lone surrogates; and the marker's own opening bracket ⟨, so that a sender cannot write a marker. A view that shows what
 * came over the network as it came (a message in the trace, its ladder label) writes each as its code point,
 * ⟨U+202E⟩: support staff see that it is there, and the text around it keeps its order. What the phone shows as a
 * name is cleaned instead (privacy/shown-name.ts).
 */
// eslint-disable-next-line no-control-regex -- control characters are among what this makes visible
const invisible = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u27e8\p{Cf}\p{Default_Ignorable_Code_Point}\p{Cs}]/gu;

/** `U+202E` for U+202E. */
export function codePointName(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The text with every invisible character written as ⟨U+XXXX⟩. */
export function showInvisibles(text: string): string {
  return text.replace(invisible, (character) => `⟨${codePointName(character)}⟩`);
}

/** The text in pieces, each invisible character a piece of its own with its code point's name (for a marked view). */
export function splitInvisibles(text: string): Array<{ text: string; invisible?: string }> {
  const pieces: Array<{ text: string; invisible?: string }> = [];
  let from = 0;
  for (const match of text.matchAll(invisible)) {
    if (match.index > from) pieces.push({ text: text.slice(from, match.index) });
    pieces.push({ text: match[0], invisible: codePointName(match[0]) });
    from = match.index + match[0].length;
  }
  if (from < text.length || pieces.length === 0) pieces.push({ text: text.slice(from) });
  return pieces;
}
