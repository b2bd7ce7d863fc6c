import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallLogEntry } from '../../core/api/call-log-types.js';
import { everydayStrings } from '../i18n/everyday-strings.js';
import { strings } from '../i18n/strings.js';
import { diagnoseConnection } from '../phone-client/session-check.js';

// The stores read the browser's language when they load; Node 20 has no navigator.
beforeAll(() => {
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { language: 'en-US' }, configurable: true });
});

/**
 * Put state into a zustand store for server rendering: renderToStaticMarkup reads a store's server snapshot, which
 * zustand takes from its initial state, so the test writes there as well as into the live state.
 */
function seed<T extends object>(store: { setState(partial: Partial<T>): void; getInitialState(): T }, partial: Partial<T>): void {
  store.setState(partial);
  Object.assign(store.getInitialState(), partial);
}

const entry = (change: Partial<CallLogEntry>): CallLogEntry => ({ id: 'call-1', accountId: 'alice', direction: 'outgoing', sipCallId: 'x', remoteShown: 'bob', remoteUri: 'sip:bob@lab', remoteUser: 'bob', remoteAnonymous: false, startedAt: Date.UTC(2026, 0, 5, 9, 30), result: 'answered', ...change });

describe('the everyday views (server-rendered markup)', () => {
  it('counts calls in the right plural, in English and Japanese', async () => {
    const { plural } = await import('../i18n/strings.js');
    expect(plural('en', 'callsLoaded', 1)).toBe('1 call loaded');
    expect(plural('en', 'callsLoaded', 0)).toBe('0 calls loaded');
    expect(plural('en', 'callsLoaded', 2)).toBe('2 calls loaded');
    expect(plural('ja', 'callsLoaded', 1)).toBe('1 件を読み込み済み');
    // every key has its Japanese, and the old one-form count is gone
    expect(Object.keys(everydayStrings.ja).sort()).toEqual(Object.keys(everydayStrings.en).sort());
    expect('callsLoaded' in strings.en).toBe(false);
  });

  it('shows each history row with its anonymity mode, duration and SIP status', async () => {
    const { History, callDuration } = await import('./History.js');
    const { useHistory } = await import('../store/history-store.js');
    expect(callDuration(42_000)).toBe('0:42');
    expect(callDuration(725_400)).toBe('12:05');
    expect(callDuration(3_723_000)).toBe('1:02:03');
    seed(useHistory, {
      rows: [
        entry({ id: 'call-1', anonymity: 'prefix', answeredAt: 1, durationMs: 65_000, status: 200 }),
        entry({ id: 'call-2', anonymity: 'header', result: 'busy', status: 486 }),
        entry({ id: 'call-3', direction: 'incoming', remoteAnonymous: true, remoteShown: 'Anonymous', result: 'missed', status: 487 }),
      ],
      loading: false,
    });
    const html = renderToStaticMarkup(<History />);
    expect(html).toContain('>3 calls loaded<');
    const rows = html.split('<li ').slice(1);
    expect(rows[0]).toMatch(/class="result">Answered<\/span><span class="duration" title="Duration">1:05<\/span><span class="sip-status" title="SIP status">200<\/span><span class="anonymity-badge prefix" title="Withheld \(184 prefix\)">184<\/span>/);
    expect(rows[1]).toMatch(/class="result">Busy<\/span><span class="sip-status" title="SIP status">486<\/span><span class="anonymity-badge header" title="Withheld \(Privacy header\)">Withheld<\/span>/);
    expect(rows[1]).not.toContain('class="duration"'); // never answered: no duration
    expect(rows[2]).toMatch(/<bdi>Anonymous<\/bdi><\/button>.*class="result">Missed<\/span><span class="sip-status"[^>]*>487<\/span><\/span>/);
    expect(rows[2]).not.toContain('anonymity-badge'); // an incoming call has no mode of ours to show
    expect(rows[2]).not.toContain('class="redial"'); // and no call-back for an anonymous caller
    seed(useHistory, { rows: [entry({})] });
    expect(renderToStaticMarkup(<History />)).toContain('>1 call loaded<');
  });

  it('names the cause of a failed registration, and the call card says why a call failed', async () => {
    const { StatusBar } = await import('./StatusBar.js');
    const { CallFailureCard } = await import('./CallFailureCard.js');
    const { usePhone } = await import('../store/phone-store.js');
    seed(usePhone, { accounts: [{ id: 'alice', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' }], registrations: { alice: { accountId: 'alice', state: 'failed', status: 401, cause: 'credentials', server: '127.0.0.1:5060' } } });
    expect(renderToStaticMarkup(<StatusBar narrow={false} />)).toMatch(/role="alert" data-account="alice"><span class="problem-account">alice:<\/span> <span class="problem-text">Wrong user name or password \(401\): check them in Settings<\/span>/);
    for (const [cause, text] of [
      ['no-answer', 'The server did not answer'],
      ['unreachable', 'The server cannot be reached'],
      ['rejected', 'The server refused the registration (404)'],
    ] as const) {
      seed(usePhone, { registrations: { alice: { accountId: 'alice', state: 'failed', status: 404, cause } } });
      expect(renderToStaticMarkup(<StatusBar narrow />)).toContain(`<span class="problem-text">${text.replace(/[()]/g, (c) => c)}</span>`);
    }
    // a registration lost at a refresh, with the phone's own next try (registration-retry.ts) due
    const retryAt = new Date(2026, 11, 7, 16, 32, 5).getTime();
    seed(usePhone, { registrations: { alice: { accountId: 'alice', state: 'unregistered', retryAt } } });
    expect(renderToStaticMarkup(<StatusBar narrow />)).toContain(`<small class="problem-retry"> · trying again at ${new Date(retryAt).toLocaleTimeString('en')}</small>`);
    seed(usePhone, { registrations: { alice: { accountId: 'alice', state: 'registered' } } });
    expect(renderToStaticMarkup(<StatusBar narrow />)).not.toContain('registration-problem');
    // calls that will not ring here are said in the status bar: do not disturb, or forwarding everything
    expect(renderToStaticMarkup(<StatusBar narrow />)).not.toContain('call-rule-badge');
    seed(usePhone, { accounts: [{ id: 'alice', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp', doNotDisturb: { status: 603 } }] });
    expect(renderToStaticMarkup(<StatusBar narrow />)).toContain('<span class="call-rule-badge dnd">Do not disturb</span>');
    seed(usePhone, { accounts: [{ id: 'alice', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp', forward: { when: 'always', to: 'carol' } }] });
    expect(renderToStaticMarkup(<StatusBar narrow />)).toContain('<span class="call-rule-badge forward">Forwarding to <bdi>carol</bdi></span>');
    const card = renderToStaticMarkup(<CallFailureCard failure={{ callId: 'c', party: 'bob', reason: 'rejected', status: 403, phrase: 'Forbidden' }} />);
    expect(card).toContain('<p class="failure-reason">Rejected (403)</p>');
    expect(card).toContain('SIP 403 <bdi>Forbidden</bdi>');
    seed(usePhone, { language: 'ja' });
    expect(renderToStaticMarkup(<CallFailureCard failure={{ callId: 'c', party: 'bob', reason: 'busy', status: 486 }} />)).toContain('<p class="failure-reason">話し中</p>');
    seed(usePhone, { language: 'en' });
  });

  it('tells a stale link from a missing token, a stopped service and a dropped connection', async () => {
    expect(await diagnoseConnection('', async () => ({ status: 204 }))).toBe('no-token');
    expect(await diagnoseConnection('old', async () => ({ status: 401 }))).toBe('stale-token');
    expect(await diagnoseConnection('good', async () => ({ status: 204 }))).toBe('lost');
    expect(await diagnoseConnection('any', async () => Promise.reject(new TypeError('Failed to fetch')))).toBe('service-down');
    const asked: string[] = [];
    await diagnoseConnection('a b&c', async (url) => (asked.push(url), { status: 204 }));
    expect(asked).toEqual(['/api/session?token=a%20b%26c']);
    const { ConnectionBanner } = await import('./ConnectionBanner.js');
    const { usePhone } = await import('../store/phone-store.js');
    seed(usePhone, { connected: false, connectionProblem: 'stale-token' });
    expect(renderToStaticMarkup(<ConnectionBanner />)).toContain('This link is from an earlier run of the phone');
    seed(usePhone, { connected: true });
    expect(renderToStaticMarkup(<ConnectionBanner />)).toBe('');
  });

  it('asks for a click while the browser holds the ringtone back, and says nothing once it may ring', async () => {
    const { RingerBlockedHint } = await import('./RingerBlockedHint.js');
    const { useAudio } = await import('../store/audio-store.js');
    seed(useAudio, { ringerBlocked: true });
    expect(renderToStaticMarkup(<RingerBlockedHint />)).toBe('<p class="ringer-blocked" role="status">Click anywhere on this page once, so that it can ring.</p>');
    seed(useAudio, { ringerBlocked: false });
    expect(renderToStaticMarkup(<RingerBlockedHint />)).toBe('');
  });

  it('keeps an error in the view it was raised in, and drops it when the user leaves that view', async () => {
    const { ViewErrorMessage } = await import('./ViewErrorMessage.js');
    const { usePhone } = await import('../store/phone-store.js');
    seed(usePhone, { view: 'settings', api: { updateAccount: async () => Promise.reject(new Error('server must be a SIP URI')) } as never });
    await usePhone.getState().run((api) => api.updateAccount({ id: 'x', user: 'x', server: 'nope', transport: 'udp' }));
    expect(usePhone.getState().error).toMatchObject({ view: 'settings', code: 'INTERNAL' });
    seed(usePhone, { error: usePhone.getState().error });
    expect(renderToStaticMarkup(<ViewErrorMessage view="settings" />)).toContain('server must be a SIP URI');
    expect(renderToStaticMarkup(<ViewErrorMessage view="phone" />)).toBe('');
    usePhone.getState().setView('phone');
    expect(usePhone.getState().error).toBeUndefined();
  });
});
