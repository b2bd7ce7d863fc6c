import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { audioCall } from '../audio/audio-call.js';
import { desktopStrings } from '../i18n/desktop-strings.js';
import { strings, translate } from '../i18n/strings.js';
import { callRequestOptions, useCallOptions } from '../store/call-options-store.js';
import { pastedDialString } from './dial-paste.js';

describe('dialer logic without a DOM', () => {
  it('cleans pasted numbers and links the way a clicked link is cleaned', () => {
    expect(pastedDialString('  03-1234 (5678)\n')).toBe('0312345678');
    expect(pastedDialString('tel:+81-3-1234-5678;phone-context=x')).toBe('+81312345678');
    expect(pastedDialString('sip:bob@example.com?Route=%3Csip:evil%3E')).toBe('sip:bob@example.com');
    expect(pastedDialString('sip:bob@example.com;maddr=10.0.0.1')).toBe('sip:bob@example.com');
    expect(pastedDialString('javascript:alert(1)')).toBe('javascript:alert(1)'); // not a link: plain text for the user to see
    expect(pastedDialString('sip:not a uri')).toBe('');
    expect(pastedDialString('184 0312345678')).toBe('1840312345678');
    expect(pastedDialString('bob\nsecond line')).toBe('bob');
    // a name-addr copied from a From header or a mail: its URI, cleaned the same way
    expect(pastedDialString('"Bob Smith" <sip:bob@example.com;maddr=10.0.0.1?Route=%3Csip:evil%3E>')).toBe('sip:bob@example.com');
    expect(pastedDialString('Carol <tel:+81-3-1234-5678>')).toBe('+81312345678');
    expect(pastedDialString('bob@192.0.2.7')).toBe('bob@192.0.2.7');
  });

  it('asks for what the Anonymous switch says, starting from the account default', () => {
    const options = useCallOptions.getState();
    options.selectAccount({ id: 'a', user: 'a', server: 'sip:x', transport: 'udp', anonymity: { anonymous: true, mode: 'header', level: 'id' } });
    expect(callRequestOptions()).toEqual({ accountId: 'a', anonymity: 'header' });
    useCallOptions.getState().setAnonymous(false);
    expect(callRequestOptions()).toEqual({ accountId: 'a', anonymity: 'none' });
    useCallOptions.getState().setAnonymous(true);
    useCallOptions.getState().setMode('prefix');
    expect(callRequestOptions()).toEqual({ accountId: 'a', anonymity: 'prefix' });
    useCallOptions.getState().selectAccount({ id: 'b', user: 'b', server: 'sip:x', transport: 'udp' });
    expect(callRequestOptions()).toEqual({ accountId: 'b', anonymity: 'none' });
  });

  it('puts the devices on the established call that is not on hold', () => {
    const call = (id: string, state: CallSnapshot['state'], localHold = false) => ({ id, state, localHold }) as CallSnapshot;
    expect(audioCall({})).toBeUndefined();
    expect(audioCall({ a: call('a', 'incoming'), b: call('b', 'calling') })).toBeUndefined();
    expect(audioCall({ a: call('a', 'established', true), b: call('b', 'established') })?.id).toBe('b');
    expect(audioCall({ a: call('a', 'established', true) })?.id).toBe('a');
  });

  it('has every string in Japanese too, and no key in both tables', () => {
    for (const table of [desktopStrings.ja, strings.ja]) for (const value of Object.values(table)) expect(value.length).toBeGreaterThan(0);
    expect(Object.keys(desktopStrings.en).sort()).toEqual(Object.keys(desktopStrings.ja).sort());
    expect(Object.keys(desktopStrings.en).filter((key) => key in strings.en)).toEqual([]);
    expect(translate('ja', 'anonymousSwitch')).toBe('非通知');
    expect(translate('ja', 'call')).toBe('発信');
    expect(translate('en', 'hintWithhold')).toMatch(/\{prefix\}/);
  });
});
