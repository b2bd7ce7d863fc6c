import { describe, expect, it } from 'vitest';
import { showInvisibles, splitInvisibles } from './invisible-characters.js';
import { messageLabel } from './ladder.js';
import { callbackTarget } from './callback-target.js';

describe('invisible characters in a view of what came over the network', () => {
  it('writes bidirectional controls, zero-width, tag and control characters as their code point', () => {
    expect(showInvisibles('"\u202Egpj.exe" <sip:a@b>')).toBe('"⟨U+202E⟩gpj.exe" <sip:a@b>');
    expect(showInvisibles('Ba\u200Bnk\u2066\u{E0041}\u00AD\u001b[2J')).toBe('Ba⟨U+200B⟩nk⟨U+2066⟩⟨U+E0041⟩⟨U+00AD⟩⟨U+001B⟩[2J');
  });

  it('writes line and paragraph separators, lone surrogates and a marker\'s bracket as code points, so none can pass for something else', () => {
    expect(showInvisibles('Bob\u2028Via: SIP/2.0/TLS x\u2029')).toBe('Bob⟨U+2028⟩Via: SIP/2.0/TLS x⟨U+2029⟩');
    expect(showInvisibles('a\ud800b\udc00')).toBe('a⟨U+D800⟩b⟨U+DC00⟩');
    expect(showInvisibles('⟨U+202E⟩')).toBe('⟨U+27E8⟩U+202E⟩');
    expect(showInvisibles('😀\u{1D173}')).toBe('😀⟨U+1D173⟩'); // a pair stays one character
  });

  it('keeps line ends, tabs and every visible letter', () => {
    const text = 'From: "Zoë 太郎 עברית"\r\n\tTo: x\n';
    expect(showInvisibles(text)).toBe(text);
  });

  it('splits text into pieces, each invisible character its own, that join back to the text', () => {
    const text = 'a\u202Eb\u200B\u200Bc';
    const pieces = splitInvisibles(text);
    expect(pieces).toEqual([{ text: 'a' }, { text: '\u202E', invisible: 'U+202E' }, { text: 'b' }, { text: '\u200B', invisible: 'U+200B' }, { text: '\u200B', invisible: 'U+200B' }, { text: 'c' }]);
    expect(pieces.map((p) => p.text).join('')).toBe(text);
    expect(splitInvisibles('')).toEqual([{ text: '' }]);
  });

  it('shows a reason phrase in a ladder label with its invisible characters written out', () => {
    expect(messageLabel('SIP/2.0 486 Busy\u202E Here\r\nCSeq: 1 INVITE\r\n\r\n')).toBe('486 Busy⟨U+202E⟩ Here (INVITE)');
  });
});

describe('callbackTarget', () => {
  it('dials back the user part as it came, or the URI when the user part carries an invisible character', () => {
    expect(callbackTarget({ remoteUser: '0312345678', remoteUri: 'sip:0312345678@lab' })).toBe('0312345678');
    expect(callbackTarget({ remoteUser: 'Zoë', remoteUri: 'sip:Zo%C3%AB@lab' })).toBe('Zoë');
    expect(callbackTarget({ remoteUser: '\u202Egpj.exe\u200B', remoteUri: 'sip:%E2%80%AEgpj.exe%E2%80%8B@lab' })).toBe('sip:%E2%80%AEgpj.exe%E2%80%8B@lab');
    expect(callbackTarget({ remoteUri: 'sip:lab' })).toBe('sip:lab');
  });
});
