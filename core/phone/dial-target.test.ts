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
});
