import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../test/support/child.js';
import { missingRequirements } from '../test/support/tools.js';
import { launchChromium } from './support/browser.js';
import { CalleeAgents } from './support/callee-agents.js';
import { notifications, notificationSpy } from './support/notification-spy.js';
import { servePhone } from './support/served-phone.js';
import { artifactDir, matchBaseline } from './support/visual-compare.js';

/**
 * An everyday phone in the desktop window's own size (420×720), in Debian's Chromium against `veilphone serve`, with
 * scripted parties on its lab: it rings (the tone player's own output carries 400 and 450 Hz) with a desktop
 * notification, and stops when the call is answered, rejected or cancelled; it rings back while the far end rings
 * (400 Hz); a second call during a call beeps (440 Hz) instead of ringing; a call that fails keeps its card a few
 * seconds and says why (busy, no such number, no answer, declined, rejected with its code), in English and Japanese;
 * history rows show how each call went; an error stays with the view it was raised in.
 */
const skip = missingRequirements(['chromium']);
const toneHz = 1000;

describe.skipIf(skip)('an everyday phone: ringing, ringback, call waiting, failures in words, history rows', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-e2e-everyday-'));
  let served: Child;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let agents: CalleeAgents;

  const shot = async (name: string, mask: Locator[] = []): Promise<Buffer> => {
    fs.mkdirSync(artifactDir, { recursive: true });
    return page.screenshot({ path: path.join(artifactDir, `${name}.png`), animations: 'disabled', caret: 'hide', mask });
  };
  /** What a tone player sent to its device: the tone it plays and the share of a frequency in its output. */
  const tones = (player: 'ringer' | 'call') =>
    page.evaluate<{ state: string; clock: number; restarts: number; blocked: boolean; playing: string | null; f400: number; f450: number; f440: number; f1000: number }>(`(() => {
      const p = window.veilphoneTones.${player};
      return { state: p.state(), clock: p.clock(), restarts: p.restarts(), blocked: p.blocked(), playing: p.playing() ?? null, f400: p.toneShare(400), f450: p.toneShare(450), f440: p.toneShare(440), f1000: p.toneShare(1000) };
    })()`);
  const playing = async (player: 'ringer' | 'call') => (await tones(player)).playing;
  const dialer = () => page.getByLabel('Number, user or SIP address');
  const incomingCard = () => page.getByRole('alertdialog', { name: 'Incoming call' });
  const failedCard = () => page.getByRole('alert', { name: 'Call failed' });
  const callState = () => page.locator('.call-state').textContent({ timeout: 1000 }).catch(() => null);
  const waitForDialer = () => page.getByRole('button', { name: 'Call', exact: true }).waitFor({ timeout: 15_000 });

  beforeAll(async () => {
    // a short media timeout: the far end going quiet in a call shows within the test's patience
    const phone = await servePhone(['--user', 'alice', '--display', 'Alice Liddell', '--media-timeout', '3'], { dataDir: path.join(scratch, 'data') });
    served = phone.child;
    agents = new CalleeAgents({
      server: phone.lab!.udp,
      domain: '127.0.0.1',
      toneHz,
      agents: [
        { user: 'bob', display: 'Bob Agent', answer: { kind: 'auto' } },
        { user: 'carol', display: 'Carol', answer: { kind: 'manual' } },
        { user: 'busy', answer: { kind: 'reject', status: 486 } },
        { user: 'ghost', answer: { kind: 'reject', status: 404 } },
        { user: 'guard', answer: { kind: 'reject', status: 403 } },
      ],
    });
    await agents.registerAll();
    browser = await launchChromium();
    const origin = new URL(phone.url).origin;
    await browser.context.grantPermissions(['notifications'], { origin });
    await browser.context.addInitScript(notificationSpy);
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 420, height: 720 });
    await page.goto(phone.url);
    await page.locator('[data-account="alice"] .state', { hasText: 'Registered' }).waitFor({ timeout: 20_000 });
  });
  afterEach(async () => {
    await agents?.hangUpAll();
  });
  afterAll(async () => {
    await browser?.close();
    await agents?.phone.shutdown();
    await served?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('is dialer first in the desktop window\'s size, in English and Japanese (baselines), with the other views in a tab bar', async () => {
    await waitForDialer();
    // the browser lets a page play sound only after a click on it: until then the page says it cannot ring
    const ringerHint = page.getByRole('status').filter({ hasText: 'Click anywhere on this page once, so that it can ring.' });
    await ringerHint.waitFor();
    await page.getByRole('tab', { name: 'Phone' }).click();
    await ringerHint.waitFor({ state: 'detached' });
    expect(await page.getByRole('tab', { name: 'Phone' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.history').count()).toBe(0); // the history is a tab of its own here
    // nothing is cut off sideways: the page is no wider than the window
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    expect(matchBaseline('narrow-dialer-en', await shot('narrow-dialer-en')).ok).toBe(true);
    await page.locator('.status-bar select').selectOption('ja');
    await page.getByRole('button', { name: '発信', exact: true }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('ja');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    expect(matchBaseline('narrow-dialer-ja', await shot('narrow-dialer-ja')).ok).toBe(true);
    await page.getByRole('tab', { name: '履歴' }).click();
    expect(await page.locator('.history h2').textContent()).toBe('履歴');
    await page.getByRole('tab', { name: '電話' }).click();
    await page.locator('.status-bar select').selectOption('en');
    await waitForDialer();
  });

  it('rings an incoming call at 400+450 Hz with a desktop notification, and stops when the caller cancels; the history counts "1 call"', async () => {
    expect(await playing('ringer')).toBeNull();
    const call = await agents.phone.call({ accountId: 'carol', target: 'alice' });
    await incomingCard().waitFor({ timeout: 15_000 });
    await expect.poll(() => playing('ringer'), { timeout: 5000 }).toBe('ring');
    // what the ringer sent to its device: the double ring, its two tones in equal parts, nothing else
    await expect.poll(async () => (await tones('ringer')).f450, { timeout: 5000 }).toBeGreaterThan(0.3);
    const ring = await tones('ringer');
    expect(ring.f400).toBeGreaterThan(0.3);
    expect(ring.f400 + ring.f450).toBeGreaterThan(0.85);
    expect(ring.f1000).toBeLessThan(0.02);
    expect(await playing('call')).toBeNull(); // no ringback, no beep
    await expect.poll(() => notifications(page), { timeout: 5000 }).toEqual([{ title: 'Incoming call', body: 'Carol', closed: false }]);
    await shot('narrow-incoming-ringing');

    await agents.phone.hangup(call.id); // CANCEL before an answer
    await expect.poll(() => playing('ringer'), { timeout: 10_000 }).toBeNull();
    await expect.poll(() => notifications(page), { timeout: 5000 }).toEqual([{ title: 'Incoming call', body: 'Carol', closed: true }]);
    await incomingCard().waitFor({ state: 'detached' });
    // the first call of this data folder: one, in the singular
    await page.getByRole('tab', { name: 'History' }).click();
    await expect.poll(() => page.locator('.history-count').textContent(), { timeout: 10_000 }).toBe('1 call loaded');
    expect(await page.locator('.history-entry .result').first().textContent()).toBe('Missed');
    await page.getByRole('tab', { name: 'Phone' }).click();
  });

  it('stops ringing when the call is answered, and when it is rejected', async () => {
    const answered = await agents.phone.call({ accountId: 'carol', target: 'alice' });
    await incomingCard().waitFor({ timeout: 15_000 });
    await expect.poll(() => playing('ringer'), { timeout: 5000 }).toBe('ring');
    await incomingCard().getByRole('button', { name: 'Answer' }).click();
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    expect(await playing('ringer')).toBeNull();
    await agents.phone.hangup(answered.id);
    await waitForDialer();

    await agents.phone.call({ accountId: 'carol', target: 'alice' });
    await incomingCard().waitFor({ timeout: 15_000 });
    await expect.poll(() => playing('ringer'), { timeout: 5000 }).toBe('ring');
    await incomingCard().getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => playing('ringer'), { timeout: 10_000 }).toBeNull();
    await expect.poll(() => agents.calls('carol').at(-1)?.status, { timeout: 10_000 }).toBe(486);
    expect(await failedCard().count()).toBe(0); // an incoming call the user turned down is no failure of theirs
  });

  it('Esc in another field (the history search) is that field\'s: the ringing call rings on; Esc on the page rejects it', async () => {
    await page.getByRole('tab', { name: 'History' }).click();
    const search = page.locator('.history-search input[type="search"]').first();
    await search.click();
    await agents.phone.call({ accountId: 'carol', target: 'alice' });
    await expect.poll(() => playing('ringer'), { timeout: 15_000 }).toBe('ring');
    await search.press('Escape');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await playing('ringer')).toBe('ring'); // before: rejected 486 from any field
    expect(agents.calls('carol').at(-1)?.status).toBeUndefined();
    await page.getByRole('tab', { name: 'Phone' }).click();
    await incomingCard().waitFor({ timeout: 5000 });
    await page.locator('body').press('Escape');
    await expect.poll(() => agents.calls('carol').at(-1)?.status, { timeout: 10_000 }).toBe(486);
    await expect.poll(() => playing('ringer'), { timeout: 10_000 }).toBeNull();
  });

  it('rings back at 400 Hz while the far end rings, then says "Declined" for a 603 and keeps the card a few seconds', async () => {
    await dialer().fill('carol');
    await page.keyboard.press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toBe('Ringing…');
    await expect.poll(() => playing('call'), { timeout: 5000 }).toBe('ringback');
    await expect.poll(async () => (await tones('call')).f400, { timeout: 8000 }).toBeGreaterThan(0.8);
    expect((await tones('call')).f450).toBeLessThan(0.05);
    expect(await playing('ringer')).toBeNull();
    const ringing = await expect.poll(() => agents.latest('carol', 'incoming'), { timeout: 10_000 }).toBeDefined().then(() => agents.latest('carol', 'incoming')!);
    await agents.phone.reject(ringing.id, 603);
    await failedCard().waitFor({ timeout: 10_000 });
    expect(await playing('call')).toBeNull();
    expect(await failedCard().locator('.party').textContent()).toBe('carol');
    expect(await failedCard().locator('.failure-reason').textContent()).toBe('Declined');
    expect(await failedCard().locator('.failure-status').textContent()).toBe('SIP 603 Decline');
    // it stays, then the dialer comes back by itself
    await failedCard().waitFor({ state: 'detached', timeout: 15_000 });
    await waitForDialer();
  });

  it('says "Call dropped" when nothing more comes from the far end of a call (its media timeout, 3 s here)', async () => {
    await dialer().fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    await expect.poll(() => agents.latest('bob', 'established'), { timeout: 10_000 }).toBeDefined();
    agents.phone.mediaOf(agents.latest('bob', 'established')!.id)!.close(); // bob's side goes quiet; its call stays up
    const dropped = page.getByRole('alert', { name: 'Call dropped' });
    await dropped.waitFor({ timeout: 15_000 });
    expect(await dropped.locator('.party').textContent()).toBe('bob');
    expect(await dropped.locator('.failure-reason').textContent()).toBe('No audio for 3 s');
    expect(await dropped.locator('.failure-status').count()).toBe(0);
    // the phone said goodbye: bob's leg ended by alice's BYE
    await expect.poll(() => agents.calls('bob').at(-1)?.endedBy, { timeout: 10_000 }).toBe('remote');
    await page.locator('body').press('Escape');
    await dropped.waitFor({ state: 'detached' });
    await waitForDialer();
  });

  it('beeps at 440 Hz, and does not ring, when a second call comes in during a call; the notification says "Call waiting"', async () => {
    await dialer().fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    const second = await agents.phone.call({ accountId: 'carol', target: 'alice' });
    // the waiting call is a row of the call list beside the call that talks (issue 22 item 2)
    await page.locator('.call-list .call-row-incoming').waitFor({ timeout: 15_000 });
    await expect.poll(() => playing('call'), { timeout: 5000 }).toBe('waiting');
    // the whole probe on failure: the player's state and its context's clock say why nothing was heard
    await expect.poll(() => tones('call'), { timeout: 10_000 }).toSatisfy((t: Awaited<ReturnType<typeof tones>>) => t.f440 > 0.8);
    expect(await playing('ringer')).toBeNull();
    await expect.poll(async () => (await notifications(page)).at(-1), { timeout: 5000 }).toEqual({ title: 'Call waiting', body: 'Carol', closed: false });
    await agents.phone.hangup(second.id);
    await expect.poll(() => playing('call'), { timeout: 10_000 }).toBeNull();
    await page.locator('body').press('Escape');
    await waitForDialer();
  });

  for (const language of ['en', 'ja'] as const) {
    it(`says why a call failed (${language}): busy, no such number, not available, rejected with its code`, async () => {
      await page.locator('.status-bar select').selectOption(language);
      const words = {
        en: { busy: 'Busy', ghost: 'No such number', nobody: 'Not available', guard: 'Rejected (403)', title: 'Call failed', call: 'Call' },
        ja: { busy: '話し中', ghost: 'この番号は使われていません', nobody: '不在です', guard: '拒否されました（403）', title: '発信できませんでした', call: '発信' },
      }[language];
      const card = page.getByRole('alert', { name: words.title });
      for (const [target, reason, status] of [
        ['busy', words.busy, 'SIP 486 Busy Here'],
        ['ghost', words.ghost, 'SIP 404 Not Found'],
        ['nobody', words.nobody, 'SIP 480 Temporarily Unavailable'], // not registered at the lab: at once, nothing rang
        ['guard', words.guard, 'SIP 403 Forbidden'],
      ] as const) {
        await page.locator('#dial-string').fill(target);
        await page.keyboard.press('Enter');
        await card.waitFor({ timeout: 15_000 });
        expect(await card.locator('.failure-reason').textContent(), target).toBe(reason);
        expect(await card.locator('.failure-status').textContent()).toBe(status);
        expect(await card.locator('.party').textContent()).toBe(target);
        if (target === 'busy') expect(matchBaseline(`narrow-call-failed-${language}`, await shot(`narrow-call-failed-${language}`)).ok).toBe(true);
        await page.locator('body').press('Escape'); // closes the card at once
        await card.waitFor({ state: 'detached' });
        await page.getByRole('button', { name: words.call, exact: true }).waitFor();
      }
      await page.locator('.status-bar select').selectOption('en');
    });
  }

  it('shows in each history row how the caller was shown, how long it lasted and its SIP status', async () => {
    await page.locator('#dial-string').fill('184bob');
    await page.keyboard.press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call · 0:0[1-9]/);
    await page.locator('body').press('Escape');
    await waitForDialer();
    await page.getByRole('tab', { name: 'History' }).click();
    const rows = page.locator('.history-entry');
    await expect.poll(async () => (await rows.first().locator('.party').textContent()) === 'bob' && (await rows.first().locator('.anonymity-badge').count()), { timeout: 10_000 }).toBe(1);
    const first = rows.first();
    expect(await first.locator('.result').textContent()).toBe('Answered');
    expect(await first.locator('.duration').textContent()).toMatch(/^0:0[1-9]$/);
    expect(await first.locator('.sip-status').textContent()).toBe('200');
    expect(await first.locator('.anonymity-badge').textContent()).toBe('184');
    expect(await first.locator('.anonymity-badge').getAttribute('title')).toBe('Withheld (184 prefix)');
    const busy = rows.filter({ has: page.locator('.party', { hasText: /^busy$/ }) }).first();
    expect(await busy.locator('.row-facts').textContent()).toBe('Busy486');
    expect(await busy.locator('.duration').count()).toBe(0);
    expect(await page.locator('.history-count').textContent()).toMatch(/^\d+ calls loaded$/);
    await shot('narrow-history-rows');
    // the call's details fill the narrow window: each fact beside its label, never wrapped letter by letter
    await first.locator('.party').click();
    const details = page.getByRole('dialog', { name: 'Call diagnostics' });
    await details.locator('.call-facts dd').first().waitFor({ timeout: 10_000 });
    const widths = await details.locator('.call-facts dd').evaluateAll((cells) => cells.map((cell) => cell.getBoundingClientRect().width));
    expect(Math.min(...widths)).toBeGreaterThan(120);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    await shot('narrow-diagnostics');
    await details.getByRole('button', { name: 'Close' }).click();
    await details.waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'Phone' }).click();
  });

  it('keeps an error in the view it was raised in: a refused setting shows there, and is gone once the user leaves', async () => {
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Edit account alice' }).click();
    const editor = page.getByRole('form', { name: 'Edit account alice' });
    await editor.getByLabel('SIP server').fill('nope');
    await editor.getByRole('button', { name: 'Save' }).click();
    const error = page.locator('main .error[role="alert"]');
    await expect.poll(() => error.textContent(), { timeout: 10_000 }).toMatch(/^That input is not valid/);
    await page.getByRole('tab', { name: 'Phone' }).click();
    expect(await page.locator('.error[role="alert"]').count()).toBe(0);
    await page.getByRole('tab', { name: 'Settings' }).click();
    expect(await page.locator('.error[role="alert"]').count()).toBe(0);
    await page.getByRole('tab', { name: 'Phone' }).click();
    await expect.poll(() => page.locator('[data-account="alice"] .state').textContent()).toBe('Registered'); // nothing was saved
  });

  it('says when its link has no access key or one from an earlier run, and how to get a working link', async () => {
    const other = await browser.context.newPage();
    try {
      await other.setViewportSize({ width: 420, height: 720 });
      const link = new URL(page.url());
      link.searchParams.set('token', 'a-key-from-an-earlier-run');
      await other.goto(link.href);
      await expect.poll(() => other.locator('.connection-banner').textContent(), { timeout: 10_000 }).toMatch(/^This link is from an earlier run of the phone/);
      expect(await other.getByText('Connection to the phone service lost').count()).toBe(0);
      link.searchParams.delete('token');
      await other.goto(link.href);
      await expect.poll(() => other.locator('.connection-banner').textContent(), { timeout: 10_000 }).toMatch(/^This page was opened without its access key/);
    } finally {
      await other.close();
    }
  });

  it('offers the desktop notifications in the settings, and says they are on once allowed', async () => {
    await page.getByRole('tab', { name: 'Settings' }).click();
    const section = page.getByRole('region', { name: 'Desktop notifications' });
    expect(await section.locator('.call-detail').textContent()).toBe('On: an incoming call shows a notification.');
    // the ringer has its own volume: set here, it is the ring player's gain (the call's tones keep theirs); the ringer
    // device follows the speaker until one is chosen (this headless Chromium names no output device to choose)
    const ringer = () => page.evaluate<{ sinkId: string; volume: number }>('window.veilphoneTones.ringer.output()');
    expect(await ringer()).toEqual({ sinkId: '', volume: 0.8 });
    await page.getByLabel('Ringer volume').fill('40');
    await expect.poll(ringer).toEqual({ sinkId: '', volume: 0.4 });
    expect(await page.evaluate<{ volume: number }>('window.veilphoneTones.call.output()')).toMatchObject({ volume: 0.7 });
    await page.getByLabel('Ringer volume').fill('80');
    await expect.poll(ringer).toEqual({ sinkId: '', volume: 0.8 });
    // the settings fit the narrow window in both languages (the random server port and device names masked)
    const masked = () => [page.locator('.accounts code'), page.locator('.audio-settings select')];
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    expect(matchBaseline('narrow-settings-en', await shot('narrow-settings-en', masked())).ok).toBe(true);
    await page.locator('.status-bar select').selectOption('ja');
    await page.getByRole('region', { name: 'デスクトップ通知' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    expect(matchBaseline('narrow-settings-ja', await shot('narrow-settings-ja', masked())).ok).toBe(true);
    await page.locator('.status-bar select').selectOption('en');
    await page.getByRole('tab', { name: 'Phone' }).click();
  });
});
