import { describe, expect, it } from 'vitest';
import { forTerminal } from './terminal-text.js';

describe('forTerminal', () => {
  it('writes control characters from the network as \\xNN, so a display name or a trace cannot drive the terminal', () => {
    expect(forTerminal('\u001b[31mYour Bank\u001b[0m')).toBe('\\x1b[31mYour Bank\\x1b[0m');
    expect(forTerminal('a\u0000b\u0007c\u007fd\u009be\rf')).toBe('a\\x00b\\x07c\\x7fd\\x9be\\x0df');
  });

  it('keeps tabs, line ends and letters beyond ASCII, joiners in an emoji too', () => {
    expect(forTerminal('From:\t"Zoë 太郎 👩\u200d💻"\nTo: x')).toBe('From:\t"Zoë 太郎 👩\u200d💻"\nTo: x');
  });

  it('writes a bidirectional control as its code point, so it cannot reorder the line on a terminal that does bidi', () => {
    expect(forTerminal('486 \u202Egpj.exe\u2066x\u2069 \u200f')).toBe('486 ⟨U+202E⟩gpj.exe⟨U+2066⟩x⟨U+2069⟩ ⟨U+200F⟩');
  });
});
