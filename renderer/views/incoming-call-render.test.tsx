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

describe('a call waiting beside one that is up, outside the phone view', () => {
  it('is a "Call waiting" dialog whose answers hold or end the call that is up', async () => {
    const { IncomingCall } = await import('./IncomingCall.js');
    const html = renderToStaticMarkup(<IncomingCall call={call({})} waiting />);
    expect(html).toMatch(/^<section class="incoming-call waiting-call" role="alertdialog" aria-label="Call waiting"><h2>Call waiting<\/h2>/);
    expect([...html.matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map((m) => m[1])).toEqual(['Hold and answer', 'End and answer', 'Reject']);
    expect([...renderToStaticMarkup(<IncomingCall call={call({})} />).matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map((m) => m[1])).toEqual(['Answer', 'Reject']);
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

  it('and so does it, and a reason phrase, in the transfer button, the failure card and the call facts', async () => {
    const { TransferControl } = await import('./TransferControl.js');
    const { CallFailureCard } = await import('./CallFailureCard.js');
    const { CallFacts } = await import('./CallDiagnostics.js');
    const main = call({ state: 'established', direction: 'outgoing' });
    const held = call({ id: 'c2', state: 'established', localHold: true, remote: { shown: 'עברית 123', uri: 'sip:x@127.0.0.1', anonymous: false } });
    expect(renderToStaticMarkup(<TransferControl call={main} others={[held]} />)).toMatch(/<button[^>]*class="connect"[^>]*>Connect [^<]*<bdi>עברית 123<\/bdi>/);
    const failure = renderToStaticMarkup(<CallFailureCard failure={{ callId: 'c1', party: 'עברית 123', reason: 'busy', status: 486, phrase: 'תפוס' }} />);
    expect(failure).toContain('<h2 class="party"><bdi>עברית 123</bdi></h2>');
    expect(failure).toMatch(/SIP 486 <bdi>תפוס<\/bdi>/);
    const facts = renderToStaticMarkup(
      <CallFacts call={{ id: 'c1', accountId: 'home', direction: 'outgoing', sipCallId: 'x', remoteShown: 'עברית 123', remoteUri: 'sip:x@127.0.0.1', remoteAnonymous: false, startedAt: 1, endedAt: 2, status: 486, reason: 'תפוס', result: 'busy', messages: [] }} />,
    ).replace(/<!-- -->/g, '');
    expect(facts).toContain('<div data-fact="fact_party"><dt>Party (shown)</dt><dd><bdi>עברית 123</bdi></dd></div>');
    expect(facts).toMatch(/data-fact="fact_result"><dt>[^<]*<\/dt><dd>Busy · 486 <bdi>תפוס<\/bdi><\/dd>/);
  });
});


describe('a contact in the address book', () => {
  it('shows its name in an isolate and its number with every invisible character written out', async () => {
    const { ContactRow } = await import('./Contacts.js');
    const contact = { id: 'k', name: 'עברית', numbers: [{ number: '\u202Egpj.exe\u200B' }], anonymous: false, favourite: false, createdAt: 1, updatedAt: 1 };
    const html = renderToStaticMarkup(<ContactRow contact={contact} onRemove={() => undefined} />).replace(/<!-- -->/g, '');
    expect(html).toContain('<span class="contact-name"><bdi>עברית</bdi></span>');
    expect(html).toContain('<bdi>⟨U+202E⟩gpj.exe⟨U+200B⟩</bdi></button>');
  });
});
