import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../../core/api/phone-types.js';

// The stores read the browser's language when they load; Node 20 has no navigator.
beforeAll(() => {
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { language: 'en-US' }, configurable: true });
});

const call = (extra: Partial<CallSnapshot>): CallSnapshot => ({
  id: 'c1',
  accountId: 'home',
  direction: 'incoming',
  state: 'incoming',
  remote: { shown: 'ext', uri: 'sip:ext@127.0.0.1', anonymous: false, user: 'ext' },
  sipCallId: 'x@y',
  startedAt: 1000,
  localHold: false,
  remoteHold: false,
  muted: false,
  ...extra,
});

describe('the incoming call view at a household terminal (seed 001 ¶[57]-[58])', () => {
  it('says whether the caller dialled the whole room or this phone, and nothing for other calls', async () => {
    const { IncomingCall } = await import('./IncomingCall.js');
    expect(renderToStaticMarkup(<IncomingCall call={call({ rang: 'room' })} />)).toContain('<p class="ring-scope">Call for the whole room</p>');
    expect(renderToStaticMarkup(<IncomingCall call={call({ rang: 'terminal' })} />)).toContain('<p class="ring-scope">Call for this phone</p>');
    expect(renderToStaticMarkup(<IncomingCall call={call({})} />)).not.toContain('ring-scope');
  });
});

describe('a caller\'s name in the call views', () => {
  it('sits in an isolate of its own (<bdi>), so right-to-left text in it cannot reorder the text around it', async () => {
    const { IncomingCall } = await import('./IncomingCall.js');
    const { CallList } = await import('./CallList.js');
    const hebrew = call({ remote: { shown: 'עברית 123', uri: 'sip:x@127.0.0.1', anonymous: false } });
    expect(renderToStaticMarkup(<IncomingCall call={hebrew} />)).toContain('<bdi>עברית 123</bdi>');
    expect(renderToStaticMarkup(<CallList focused={{ ...hebrew, id: "c0" }} calls={[{ ...hebrew, id: "c0" }, hebrew]} />)).toContain('<bdi class="party">עברית 123</bdi>');
  });
});

