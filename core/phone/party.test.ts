import { describe, expect, it } from 'vitest';
import { partyFrom } from './phone-call.js';

describe('partyFrom', () => {
  it('shows a cleaned display name, falls back to the user part when nothing of it is left, and keeps the user part to dial', () => {
    expect(partyFrom({ uri: 'sip:eve@example.com', user: 'eve', display: '\u202EEve' })).toEqual({ shown: 'Eve', uri: 'sip:eve@example.com', user: 'eve', display: 'Eve', anonymous: false });
    expect(partyFrom({ uri: 'sip:eve@example.com', user: 'eve', display: '\u202E\u200B' })).toEqual({ shown: 'eve', uri: 'sip:eve@example.com', user: 'eve', anonymous: false });
    expect(partyFrom({ uri: 'sip:e%07ve@example.com', user: 'e\x07ve' })).toMatchObject({ shown: 'eve', user: 'e\x07ve' });
    expect(partyFrom({ uri: 'sip:anonymous@anonymous.invalid', display: 'Anonymous' }, true).shown).toBe('Anonymous');
  });
});
