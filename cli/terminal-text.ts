/**
 * Text from the network as the terminal may show it: control characters (an ESC that would recolour the screen, move
 * the cursor or retitle the window; C1 controls; DEL) are written as `\xNN`; only tab and line feed pass.
 */
export function forTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
