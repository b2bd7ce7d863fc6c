import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../core/api/phone-types.js';
import { mediaTimeoutFieldOf, withMediaTimeout } from './media-timeout-form.js';

// The stores read the browser's language when they load; Node 20 has no navigator.
beforeAll(() => {
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { language: 'en-US' }, configurable: true });
});

/** The account editor's media timeout (core/phone/media-timeout.ts): when a call whose far end went quiet is ended. */
describe('the media timeout in the account editor', () => {
  it('the editor shows the account\'s media timeout (30 s by default) and sends what the user wrote, keeping the held limit', async () => {
    const { AccountEditor } = await import('./Settings.js');
    const plain: AccountConfig = { id: 'a', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' };
    expect(renderToStaticMarkup(<AccountEditor account={plain} onDone={() => undefined} />)).toMatch(/<span>Hang up when no audio comes for \(seconds, 0 = never\)<\/span><input [^>]*type="number"[^>]*value="30"/);
    expect(mediaTimeoutFieldOf({ ...plain, mediaTimeout: { seconds: 0 } })).toBe('0');
    expect(withMediaTimeout(plain, '45')).toEqual({ ...plain, mediaTimeout: { seconds: 45 } });
    expect(withMediaTimeout({ ...plain, mediaTimeout: { seconds: 20, heldSeconds: 600 } }, '0')).toEqual({ ...plain, mediaTimeout: { seconds: 0, heldSeconds: 600 } });
    expect(withMediaTimeout({ ...plain, mediaTimeout: { seconds: 20 } }, ' ')).toEqual(plain);
    expect(withMediaTimeout(plain, 'soon').mediaTimeout?.seconds).toBeNaN(); // the core refuses it, with words
    expect(withMediaTimeout(plain, '30')).toEqual(plain); // the default left as shown: none stored
    expect(withMediaTimeout({ ...plain, mediaTimeout: { seconds: 45 } }, '30')).toEqual({ ...plain, mediaTimeout: { seconds: 30 } });
  });
});
