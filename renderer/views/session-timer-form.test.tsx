import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../core/api/phone-types.js';
import { sessionExpiresFieldOf, withSessionExpires } from './session-timer-form.js';

// The stores read the browser's language when they load; Node 20 has no navigator.
beforeAll(() => {
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { language: 'en-US' }, configurable: true });
});

/** The session timer an account asks for (RFC 4028, AccountConfig.sessionExpires), in the account editor. */
describe('the session timer in the account editor', () => {
  it('shows the interval the account asks for (none by default) and stores what the user wrote; 0 or blank asks for none', async () => {
    const { AccountEditor } = await import('./Settings.js');
    const plain: AccountConfig = { id: 'a', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' };
    expect(renderToStaticMarkup(<AccountEditor account={plain} onDone={() => undefined} />)).toMatch(/<span>Session timer to ask for \(seconds, 0 = none\)<\/span><input [^>]*type="number"[^>]*value="0"/);
    expect(renderToStaticMarkup(<AccountEditor account={{ ...plain, sessionExpires: 1800 }} onDone={() => undefined} />)).toMatch(/Session timer to ask for[^<]*<\/span><input [^>]*value="1800"/);
    expect(sessionExpiresFieldOf({ ...plain, sessionExpires: 600 })).toBe('600');
    expect(withSessionExpires(plain, '1800')).toEqual({ ...plain, sessionExpires: 1800 });
    expect(withSessionExpires({ ...plain, sessionExpires: 1800 }, '0')).toEqual(plain);
    expect(withSessionExpires({ ...plain, sessionExpires: 1800 }, ' ')).toEqual(plain);
    expect(withSessionExpires(plain, 'often').sessionExpires).toBeNaN(); // the core refuses it, with words
  });
});
