import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findIdentityLeaks } from '../core/privacy/identity-leaks.js';
import type { Child } from '../test/support/child.js';
import { missingRequirements } from '../test/support/tools.js';
import { launchChromium } from './support/browser.js';
import { ScriptedAgent } from './support/scripted-agent.js';
import { servePhone } from './support/served-phone.js';
import { artifactDir, matchBaseline } from './support/visual-compare.js';
import { writeToneWav } from './support/wav-tone.js';

/**
 * The desktop UI as a user drives it, in Debian's Chromium against `veilphone serve` (the browser twin of the Electron
 * window): a normal call to a scripted agent whose tone reaches the renderer's audio bridge, anonymous calls by the
 * switch and by a typed 184, incoming calls (by name and anonymous), hold, DTMF, mute, hang-up, history and settings.
 * The agent (a Phone in this process) confirms from its side what the network delivered. Screenshots of each view go
 * to test-results/e2e/; a few are compared with e2e/baselines/ (UPDATE_BASELINES=1 rewrites them).
 */
const skip = missingRequirements(['chromium']);
const agentTone = 1000;
const microphoneTone = 600;

describe.skipIf(skip)('the desktop UI in Chromium: calls, audio, anonymity, history, settings', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-e2e-ui-'));
  const dataDir = path.join(scratch, 'data');
  let served: Child;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let agent: ScriptedAgent;
  let lab: { udp: string; tcp: string; ws: string };

  const shot = async (name: string, target: Page | Locator = page, mask: Locator[] = []): Promise<Buffer> => {
    fs.mkdirSync(artifactDir, { recursive: true });
    const options = { path: path.join(artifactDir, `${name}.png`), animations: 'disabled' as const, caret: 'hide' as const, mask, maskColor: '#888888' };
    return 'goto' in target ? target.screenshot(options) : target.screenshot(options);
  };
  const expectBaseline = async (name: string, target: Page | Locator, mask: Locator[] = []): Promise<void> => {
    const result = matchBaseline(name, await shot(name, target, mask));
    expect(result.ok, `${name}: ${result.reason}`).toBe(true);
  };
  const callState = () => page.locator('.call-state').textContent({ timeout: 1000 }).catch(() => null);
  const dialer = () => page.getByLabel('Number, user or SIP address');
  const waitForDialer = () => page.getByRole('button', { name: 'Call', exact: true }).waitFor({ timeout: 15_000 });
  const latestIncoming = (after: number) => agent.incoming().slice(after)[0];
  /** Every control has an accessible name: the controls on screen that have none. */
  const unnamedControls = () =>
    page.evaluate<string[]>(`[...document.querySelectorAll('button, input, select, meter')]
      .filter((el) => !(el.getAttribute('aria-label') || (el.tagName !== 'INPUT' && el.textContent.trim()) || (el.labels && el.labels.length) || el.getAttribute('aria-labelledby')))
      .map((el) => el.outerHTML)`);
  /** The renderer's own Goertzel check on what its audio bridge just played (window.veilphoneAudio). */
  const heard = (hz: number) => page.evaluate<number>(`window.veilphoneAudio ? window.veilphoneAudio.toneShare(${hz}) : 0`);

  const failedRequests: string[] = [];
  beforeAll(async () => {
    const wav = path.join(scratch, `mic-${microphoneTone}hz.wav`);
    writeToneWav(wav, microphoneTone);
    const phone = await servePhone(['--user', 'alice', '--display', 'Alice Liddell'], { dataDir });
    served = phone.child;
    lab = phone.lab!;
    agent = new ScriptedAgent({ user: 'bob', display: 'Bob Agent', server: phone.lab!.udp, domain: '127.0.0.1', toneHz: agentTone });
    await agent.phone.register();
    browser = await launchChromium([`--use-file-for-fake-audio-capture=${wav}`]);
    page = await browser.context.newPage();
    page.on('response', (response) => void (response.status() >= 400 && failedRequests.push(`${response.status()} ${new URL(response.url()).pathname}`)));
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.goto(phone.url);
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.phone.shutdown();
    await served?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('shows the registration, the embedded lab, the address mode and the lease slot; the dialer matches its baseline', async () => {
    await expect.poll(() => page.locator('[data-account="alice"] .state').textContent(), { timeout: 20_000 }).toBe('Registered');
    expect(await page.locator('[data-account="alice"] .address-mode').textContent()).toBe('Fixed address');
    expect(await page.locator('.network').textContent()).toBe('Embedded lab');
    expect(await page.locator('.lease').textContent()).toMatch(/static configuration/);
    expect(await unnamedControls()).toEqual([]);
    expect(failedRequests).toEqual([]); // not even the browser's /favicon.ico
    // a first click lets the page play sound (the browser's autoplay policy), which ends the hint that it cannot ring
    await page.locator('.status-bar h1').click();
    await page.locator('.ringer-blocked').waitFor({ state: 'detached' });
    await expectBaseline('dialer', page);
    // keyboard first: digits typed anywhere go into the dialer, Backspace takes them back
    await page.locator('body').press('1');
    await page.locator('body').press('2');
    expect(await dialer().inputValue()).toBe('12');
    await page.locator('body').press('Backspace');
    await page.locator('body').press('Backspace');
    expect(await dialer().inputValue()).toBe('');
  });

  it('places a normal call to the agent and hears its tone; the agent hears the microphone, gets DTMF, sees hold and mute; Esc hangs up', async () => {
    const before = agent.incoming().length;
    await dialer().fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    const leg = await expect.poll(() => latestIncoming(before)?.state, { timeout: 10_000 }).toBe('established').then(() => latestIncoming(before)!);
    expect(leg.remote).toMatchObject({ anonymous: false, shown: 'Alice Liddell' });

    // the agent's 1000 Hz tone reaches the renderer's audio bridge and its speaker meter
    await expect.poll(() => heard(agentTone), { timeout: 10_000 }).toBeGreaterThan(0.8);
    await expect.poll(async () => Number(await page.locator('.level-output meter').getAttribute('data-level')), { timeout: 5000 }).toBeGreaterThan(0.05);
    // and the fake microphone's 600 Hz reaches the agent through getUserMedia → worklet → audio port → RTP
    await expect.poll(() => agent.phone.mediaOf(leg.id)?.recent.toneShare(microphoneTone) ?? 0, { timeout: 10_000 }).toBeGreaterThan(0.5);
    await expect.poll(async () => Number(await page.locator('.level-input meter').getAttribute('data-level')), { timeout: 5000 }).toBeGreaterThan(0.01);
    expect(await page.locator('.call-where').textContent()).toMatch(/My address127\.0\.0\.1Signaling from127\.0\.0\.1:\d+Audio from127\.0\.0\.1:\d+ · PCMU/);
    await shot('in-call');

    // DTMF: the in-call keypad, then a digit typed on the keyboard
    await page.getByRole('button', { name: 'Keypad' }).click();
    for (const digit of ['1', '2', '#']) await page.getByRole('button', { name: `Send tone ${digit}` }).click();
    await page.locator('body').press('5');
    expect(await unnamedControls()).toEqual([]);
    await expect.poll(() => agent.digits(leg.id), { timeout: 10_000 }).toBe('12#5');
    expect(await page.locator('.dtmf-sent').textContent()).toBe('12#5');
    await shot('in-call-keypad');

    // hold and resume: the agent sees the remote hold come and go
    await page.getByRole('button', { name: 'Hold' }).click();
    await expect.poll(callState, { timeout: 10_000 }).toMatch(/^On hold/);
    await expect.poll(() => agent.calls().find((c) => c.id === leg.id)?.remoteHold, { timeout: 10_000 }).toBe(true);
    await shot('on-hold');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => agent.calls().find((c) => c.id === leg.id)?.remoteHold, { timeout: 10_000 }).toBe(false);

    // mute: the agent hears silence while the microphone keeps going
    await page.getByRole('button', { name: 'Mute' }).click();
    await page.getByRole('button', { name: 'Unmute' }).waitFor();
    const loudest = (): number => {
      const recent = agent.phone.mediaOf(leg.id)!.recent.samples();
      return Math.max(...recent.subarray(recent.length - 1600).map(Math.abs)); // the last 200 ms
    };
    await expect.poll(loudest, { timeout: 5000 }).toBe(0);
    await page.getByRole('button', { name: 'Unmute' }).click();

    await page.locator('body').press('Escape');
    await waitForDialer();
    await expect.poll(() => agent.calls().find((c) => c.id === leg.id)?.state, { timeout: 10_000 }).toBe('terminated');
  });

  it('places an anonymous call with the switch (privacy header): the agent is shown Anonymous and nothing it received names alice', async () => {
    const before = agent.incoming().length;
    await page.getByRole('switch', { name: 'Anonymous' }).check();
    await page.getByRole('radio', { name: /Privacy header/ }).check();
    await shot('dialer-anonymous');
    await dialer().fill('bob');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    expect(await page.locator('.anonymity-sent').textContent()).toBe('Your number is withheld (privacy header)');
    await expect.poll(() => latestIncoming(before)?.state, { timeout: 10_000 }).toBe('established');
    const leg = latestIncoming(before)!;
    expect(leg.remote).toMatchObject({ anonymous: true, shown: 'Anonymous' });
    const leaks = agent.messagesOf(leg.sipCallId).flatMap((raw) => findIdentityLeaks(raw, { user: 'alice', displayName: 'Alice Liddell' }));
    expect(agent.messagesOf(leg.sipCallId).length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
    await page.getByRole('button', { name: 'Hang up' }).click();
    await waitForDialer();
    await page.getByRole('switch', { name: 'Anonymous' }).uncheck();
  });

  it('places an anonymous call with a typed 184: the dialer says so, the agent is shown Anonymous', async () => {
    const before = agent.incoming().length;
    await dialer().focus();
    await page.keyboard.type('184bob');
    expect(await page.locator('.dial-hint').textContent()).toBe('184: your number will be withheld on this call');
    await expectBaseline('dialer-184-hint', page.locator('main'));
    await page.keyboard.press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    await expect.poll(() => latestIncoming(before)?.state, { timeout: 10_000 }).toBe('established');
    const leg = latestIncoming(before)!;
    expect(leg.remote).toMatchObject({ anonymous: true, shown: 'Anonymous' });
    expect(agent.messagesOf(leg.sipCallId).flatMap((raw) => findIdentityLeaks(raw, { user: 'alice', displayName: 'Alice Liddell' }))).toEqual([]);
    await page.locator('body').press('Escape');
    await waitForDialer();
  });

  it('answers an incoming call shown by name, hears the agent, and ends when the agent hangs up', async () => {
    await page.getByRole('button', { name: 'Call', exact: true }).focus(); // a button had the focus: the ringing call takes it
    const call = await agent.phone.call({ target: 'alice' });
    const incoming = page.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 15_000 });
    expect(await incoming.locator('.party').textContent()).toBe('Bob Agent');
    await expect.poll(() => page.evaluate<string | null>('document.activeElement && document.activeElement.textContent')).toBe('Answer');
    await shot('incoming', incoming);
    await page.keyboard.press('Enter'); // on the focused Answer button
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    await expect.poll(() => heard(agentTone), { timeout: 10_000 }).toBeGreaterThan(0.8);
    await agent.phone.hangup(call.id);
    await waitForDialer();
  });

  it('shows an anonymous incoming call as Anonymous with no call-back anywhere; Enter answers, Esc hangs up', async () => {
    await agent.phone.call({ target: 'alice', anonymity: 'header' });
    const incoming = page.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 15_000 });
    expect(await incoming.locator('.party').textContent()).toBe('Anonymous');
    expect(await incoming.textContent()).toContain('The caller withheld their number');
    expect(await incoming.textContent()).not.toMatch(/bob|sip:/i);
    await expectBaseline('incoming-anonymous', incoming);
    await page.locator('body').press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    expect(await page.locator('.active-call .party').textContent()).toBe('Anonymous');
    expect(await page.locator('.active-call').textContent()).not.toMatch(/bob/i);
    await page.locator('body').press('Escape');
    await waitForDialer();
  });

  it('finds the calls in the history: the anonymous caller without a call-back action', async () => {
    await expect.poll(() => page.locator('.history-entry').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    const entries = page.locator('.history-entry');
    const texts = await entries.allTextContents();
    expect(texts[0]).toMatch(/↙.*Anonymous.*Answered/);
    expect(texts[1]).toMatch(/↙.*Bob Agent.*Answered/);
    expect(texts.slice(2, 5).every((t) => /↗.*bob.*Answered/i.test(t))).toBe(true);
    // the anonymous entry opens its diagnostics, but offers no call-back (SPEC A)
    expect(await entries.nth(0).getByRole('button', { name: /^Call / }).count()).toBe(0);
    expect(await entries.nth(0).locator('.redial').count()).toBe(0);
    expect(await entries.nth(1).getByRole('button', { name: 'Call Bob Agent' }).count()).toBe(1);
    await shot('history', page.locator('.history'));
  });

  it('edits the account in the settings: stored by the core, re-registered, and the dialer follows the new anonymity default', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('region', { name: 'Settings' });
    await settings.waitFor();
    await expect.poll(() => settings.locator('.storage').textContent()).toMatch(/Saved in the data folder/);
    await expectBaseline('settings', settings, [settings.locator('.accounts code'), settings.locator('.audio-settings select')]);
    await settings.getByRole('button', { name: 'Edit account alice' }).click();
    const editor = page.getByRole('form', { name: 'Edit account alice' });
    await editor.getByLabel('Display name').fill('Alice L.');
    await editor.getByRole('switch', { name: /Withhold my number on every call/ }).check();
    await shot('settings-edit', settings);
    expect(await unnamedControls()).toEqual([]);
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-account="alice"] .account').textContent(), { timeout: 10_000 }).toBe('Alice L.');
    await expect.poll(() => page.locator('[data-account="alice"] .state').textContent(), { timeout: 15_000 }).toBe('Registered');
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')) as { accounts: Array<Record<string, unknown>> };
    expect(stored.accounts).toEqual([expect.objectContaining({ id: 'alice', displayName: 'Alice L.', anonymity: { anonymous: true, mode: 'prefix', level: 'id' } })]);

    await page.getByRole('button', { name: 'Back to the phone' }).click();
    expect(await page.getByRole('switch', { name: 'Anonymous' }).isChecked()).toBe(true);
    const before = agent.incoming().length;
    await dialer().fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(() => latestIncoming(before)?.state, { timeout: 15_000 }).toBe('established');
    expect(latestIncoming(before)!.remote.anonymous).toBe(true);
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    await page.locator('body').press('Escape');
    await waitForDialer();
  });

  it('switches the account to one-time addresses: the status bar says so, and a call shows the one-time address it used', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Edit account alice' }).click();
    const editor = page.getByRole('form', { name: 'Edit account alice' });
    await editor.getByLabel('Address source').selectOption('loopback');
    await editor.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Back to the phone' }).click();
    await expect.poll(() => page.locator('[data-account="alice"] .address-mode').textContent(), { timeout: 15_000 }).toMatch(/^One-time addresses · lab loopback( \(.+\))?$/);
    await expect.poll(() => page.locator('[data-account="alice"] .state').textContent(), { timeout: 15_000 }).toBe('Registered');
    const before = agent.incoming().length;
    await dialer().fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    await expect.poll(() => latestIncoming(before)?.state, { timeout: 10_000 }).toBe('established');
    const where = await page.locator('.call-where').textContent();
    const address = /My address(127\.\d+\.\d+\.\d+)/.exec(where ?? '')?.[1];
    expect(address, where ?? '').toBeDefined();
    expect(address).not.toBe('127.0.0.1');
    expect(where).toContain(`Signaling from${address}:`);
    await shot('in-call-one-time-address');
    await page.locator('body').press('Escape');
    await waitForDialer();
  });

  it('speaks Japanese', async () => {
    await page.getByLabel('Language').selectOption('ja');
    expect(await page.getByRole('switch', { name: '非通知' }).isChecked()).toBe(true);
    expect(await page.getByRole('button', { name: '発信', exact: true }).count()).toBe(1);
    // the wide layout in Japanese: the status bar's labels whole, the dialer beside the history (masked: it changes)
    await expectBaseline('wide-dialer-ja', page, [page.locator('.history')]);
    await page.getByLabel('言語').selectOption('en');
  });

  it('adds a second account over TCP in the settings; the dialer then offers an account picker and calls from the one chosen', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Add account' }).click();
    const editor = page.getByRole('form', { name: 'Add account' });
    await editor.getByLabel('Account id').fill('carol');
    await editor.getByLabel('User name').fill('carol');
    await editor.getByLabel('Display name').fill('Carol');
    await editor.getByLabel('SIP server').fill(lab.tcp);
    await editor.getByLabel('Transport').selectOption('tcp');
    await editor.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Back to the phone' }).click();
    await expect.poll(() => page.locator('[data-account="carol"] .state').textContent(), { timeout: 15_000 }).toBe('Registered');
    const picker = page.getByLabel('Account');
    expect(await picker.locator('option').allTextContents()).toEqual(['Alice L. (alice)', 'Carol (carol)']);
    await picker.selectOption('carol');
    expect(await page.getByRole('switch', { name: 'Anonymous' }).isChecked()).toBe(false); // carol's default presents
    const before = agent.incoming().length;
    await dialer().fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(() => latestIncoming(before)?.state, { timeout: 15_000 }).toBe('established');
    expect(latestIncoming(before)!.remote).toMatchObject({ anonymous: false, shown: 'Carol' });
    await expect.poll(callState, { timeout: 15_000 }).toMatch(/^In call/);
    await shot('dialer-two-accounts-call');
    await page.locator('body').press('Escape');
    await waitForDialer();
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'settings.json'), 'utf8')) as { accounts: Array<{ id: string; transport: string }> };
    expect(stored.accounts.map((a) => `${a.id}/${a.transport}`)).toEqual(['alice/udp', 'carol/tcp']);
  });
});
