import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callLogPath } from '../core/phone/data-dir.js';
import type { Child } from '../test/support/child.js';
import { seedCallLog, type SeededLog } from '../test/support/seed-call-log.js';
import { missingRequirements } from '../test/support/tools.js';
import { veilphone } from '../test/support/veilphone-cli.js';
import { launchChromium } from './support/browser.js';

const skip = missingRequirements(['chromium']);

/** Support staff in the served UI: a log of 100,000 calls, searched like the CLI, and one call taken apart. */
describe.skipIf(skip)('history and diagnostics pane with 100,000 logged calls', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-e2e-history-'));
  let seeded: SeededLog;
  let child: Child;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const loaded = async (): Promise<number> => Number(/(\d+)/.exec((await page.locator('.history-count').textContent()) ?? '')?.[1] ?? -1);

  beforeAll(async () => {
    seeded = seedCallLog(callLogPath(dataDir), { calls: 100_000, messagesPerCall: 2, showcaseMessages: 30, cache: true });
    child = veilphone(['serve', '--json', '--user', 'alice'], { dataDir });
    const line = await child.waitFor(/^\{"event":"ready".*\}$/m, 150_000);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto((JSON.parse(line[0]) as { url: string }).url);
  });
  afterAll(async () => {
    await browser?.close();
    await child?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the newest calls first, renders only the rows in view, and pages in more as the list scrolls', async () => {
    await expect.poll(loaded, { timeout: 20_000 }).toBe(200);
    const firstTime = await page.locator('.history-entry time').first().getAttribute('datetime');
    expect(Date.parse(firstTime!)).toBeGreaterThan(Date.now() - 3_600_000 * 24 * 2); // the newest call, from the last day or so
    const scroller = page.locator('.history-scroll');
    // every row fits the list's width, its last button (add to contacts) included: no sideways scrolling
    expect(await scroller.evaluate((element) => element.scrollWidth - element.clientWidth)).toBeLessThanOrEqual(0);
    const [list, add] = await Promise.all([scroller.boundingBox(), page.locator('.history-entry .history-actions button').last().boundingBox()]);
    expect(add!.x + add!.width).toBeLessThanOrEqual(list!.x + list!.width);
    for (let i = 0; i < 4; i++) {
      const before = await loaded();
      await scroller.evaluate((element) => (element.scrollTop = element.scrollHeight));
      await expect.poll(loaded, { timeout: 15_000 }).toBeGreaterThan(before);
      // A few dozen rows in the DOM however many are loaded (the list is virtualised).
      expect(await page.locator('.history-entry').count()).toBeLessThan(60);
    }
    expect(await loaded()).toBeGreaterThanOrEqual(1000);
    // The rows in view are the ones at the scroll position: later than the first page.
    const shown = await page.locator('.history-entry').first().getAttribute('data-call');
    expect(Number(shown!.slice(5))).toBeLessThan(100_000 - 700);
  });

  it('searches by number like `veilphone logs list --number`, and refuses an unreadable time with words, not a crash', async () => {
    await page.getByLabel('Number or user').fill(seeded.showcaseNumber);
    await expect.poll(() => page.locator('.history-entry').count(), { timeout: 10_000 }).toBe(1);
    expect(await loaded()).toBe(1);
    await page.getByLabel('From').fill('soon');
    await expect.poll(() => page.locator('.history-search [role="alert"]').textContent(), { timeout: 10_000 }).toContain('That time is not understood');
    await page.getByLabel('From').fill('200d');
    await expect.poll(() => page.locator('.history-entry').count(), { timeout: 10_000 }).toBe(1);
    await page.getByLabel('Result').selectOption('busy');
    await expect.poll(() => page.locator('.history-count').textContent(), { timeout: 10_000 }).toBe('No calls match this search');
    await page.getByLabel('Result').selectOption('');
    await expect.poll(() => page.locator('.history-entry').count(), { timeout: 10_000 }).toBe(1);
    await page.getByLabel('SIP status').fill('486');
    await expect.poll(() => page.locator('.history-count').textContent(), { timeout: 10_000 }).toBe('No calls match this search');
    await page.getByLabel('SIP status').fill('200');
    await expect.poll(() => page.locator('.history-entry').count(), { timeout: 10_000 }).toBe(1);
  });

  it('opens the diagnostics pane: facts, addresses, a ladder of 30 arrows, a message with its signed headers highlighted', async () => {
    await page.locator('.history-entry .party').first().click();
    const pane = page.getByRole('dialog', { name: 'Call diagnostics' });
    await pane.waitFor({ timeout: 10_000 });
    await expect.poll(() => pane.locator('[data-fact="fact_callId"] dd').textContent(), { timeout: 10_000 }).toBe(seeded.showcaseSipCallId);
    expect(await pane.locator('[data-fact="fact_rtp"] dd').textContent()).toBe('127.0.0.1:16384 ↔ 127.0.0.1:20000');
    expect(await pane.locator('.endpoints tr').count()).toBe(4); // SIP and RTP on both sides
    const arrows = pane.locator('.ladder-arrow');
    expect(await arrows.count()).toBe(30);
    expect(await arrows.nth(2).getAttribute('aria-label')).toBe('#2 180 Ringing (INVITE) +0.014s');
    await arrows.nth(2).click();
    const raw = pane.locator('.raw-message');
    await raw.waitFor();
    expect(await raw.textContent()).toContain('SIP/2.0 180 Ringing');
    expect(await raw.locator('mark.signed-param').allTextContents()).toEqual(['rs-sig=AAECAwQFBgcICQoLDA0ODw', 'rr-sig="k1.hmac256.5d41402abc4b2a76b9719d911017c592"']);
    expect(await pane.locator('.no-signatures').textContent()).toBe('No decoded signatures for this message.');
    await arrows.nth(0).focus();
    await page.keyboard.press('Enter');
    expect(await raw.textContent()).toMatch(/^INVITE sip:/);
  });

  it('exports the call as pcap and JSON files through PhoneApi', async () => {
    const pane = page.getByRole('dialog', { name: 'Call diagnostics' });
    const [pcap] = await Promise.all([page.waitForEvent('download'), pane.getByRole('button', { name: 'Export pcap' }).click()]);
    expect(pcap.suggestedFilename()).toMatch(/^veilphone-seed-005-\d{8}-\d{6}\.pcap$/);
    const pcapBytes = fs.readFileSync((await pcap.path())!);
    expect(pcapBytes.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(pcapBytes.toString('latin1').match(/CSeq: \d+ /g)).toHaveLength(30);
    const [json] = await Promise.all([page.waitForEvent('download'), pane.getByRole('button', { name: 'Export JSON' }).click()]);
    const exported = JSON.parse(fs.readFileSync((await json.path())!, 'utf8')) as { calls: Array<{ id: string; messages: unknown[] }> };
    expect(exported.calls.map((c) => [c.id, c.messages.length])).toEqual([[seeded.showcaseId, 30]]);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog', { name: 'Call diagnostics' }).count(), { timeout: 5000 }).toBe(0);
  });

  it('speaks Japanese', async () => {
    await page.getByRole('combobox', { name: 'Language' }).selectOption('ja');
    expect(await page.locator('.history h2').textContent()).toBe('履歴');
    await page.getByLabel('番号またはユーザー').fill('');
    await expect.poll(() => page.locator('.history-count').textContent(), { timeout: 10_000 }).toMatch(/^200 件を読み込み済み/);
    await page.locator('.history-entry .party').first().click();
    await page.getByRole('dialog', { name: '通話診断' }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole('button', { name: 'pcap で書き出す' }).count()).toBe(1);
  });
});
