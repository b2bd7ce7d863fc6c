import { codePointName } from '../core/api/invisible-characters.js';

/** UAX #9's explicit directional formatting characters: on a terminal that lays out bidirectional text, they reorder the line. */
const bidiControls = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from the network as the terminal may show it: control characters (an ESC that would recolour the screen, move
 * the cursor or retitle the window; C1 controls; DEL) are written as `\xNN`, only tab and line feed pass; a
 * bidirectional control (a right-to-left override, say) is written as its code point, ⟨U+202E⟩.
 */
export function forTerminal(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
      .replace(bidiControls, (ch) => `⟨${codePointName(ch)}⟩`)
  );
}
