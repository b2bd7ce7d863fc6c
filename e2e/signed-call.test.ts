import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../test/support/child.js';
import { missingRequirements } from '../test/support/tools.js';
import { veilphone } from '../test/support/veilphone-cli.js';
import type { launchChromium } from './support/browser.js';
import { answeredCall, openPhonePages } from './support/phone-pages.js';
import { servePhone } from './support/served-phone.js';

const skip = missingRequirements(['chromium']);

/**
 * Seed 002 end to end in the UI: the embedded lab signs Via, Record-Route and both route sets (`veilphone serve
 * --signing`), the phone checks them with the lab's keys, and support staff see the verdicts in the diagnostics pane.
 */
describe.skipIf(skip)('a call through the signing lab, inspected in Chromium', () => {
  const children: Child[] = [];
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    const first = await servePhone(['--user', 'alice', '--display', 'Alice Liddell', '--signing']);
    children.push(first.child);
    const second = await servePhone(['--user', 'bob', '--server', first.lab!.udp]);
    children.push(second.child);
    ({ browser, alice, bob } = await openPhonePages(first.url, second.url));
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(children.map((c) => c.stop()));
  });

  it('shows the signatures of the answer as valid, highlighted in its raw text, and marks the ladder', async () => {
    await answeredCall(alice, bob);

    await alice.locator('.history-entry .party').first().click();
    const pane = alice.getByRole('dialog', { name: 'Call diagnostics' });
    await pane.waitFor({ timeout: 10_000 });
    const answer = pane.locator('.ladder-arrow.in', { hasText: '200 OK (INVITE)' }).first();
    await answer.waitFor({ timeout: 10_000 });
    expect(await answer.textContent()).toContain('✓ sig');
    await answer.click();
    const rows = pane.locator('table.signatures tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const kinds = await rows.locator('td:first-child').allTextContents();
    // seed 002 ¶[55]: the proxy removed the Record-Route signature from the answer once it had checked it
    expect(kinds.some((k) => k.startsWith('record-route'))).toBe(false);
    expect(kinds.some((k) => k.startsWith('route-set-caller'))).toBe(true);
    expect(new Set(await rows.locator('td.verdict').allTextContents())).toEqual(new Set(['valid']));
    const marked = await pane.locator('.raw-message mark.signed-param').allTextContents();
    expect(marked.some((m) => m.startsWith('vp-sig=1.rr.'))).toBe(false);
    expect(marked.some((m) => m.startsWith('vp-rs=1.rsr.'))).toBe(true);

    // Alice's own BYE follows the caller route set: its Route carries the signature, and it checks out too.
    const bye = pane.locator('.ladder-arrow.out', { hasText: 'BYE' }).first();
    await bye.click();
    await expect.poll(() => pane.locator('table.signatures td.verdict').allTextContents(), { timeout: 10_000 }).toEqual(['valid']);
    expect(await pane.locator('table.signatures td:first-child').first().textContent()).toMatch(/^route-set-caller \(Route/);
  });
});

/**
 * The other way a phone gets keys: a signing lab of its own (`veilphone lab --signing --keys-out`) and a served phone
 * given that key file (`--signing-keys`). The phone without keys decodes the same signatures but gives no verdict.
 */
describe.skipIf(skip)('phones of an external signing lab: one with its key file, one without', () => {
  const children: Child[] = [];
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    const keys = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vp-keys-')), 'keys.json');
    const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--signing', '--keys-out', keys]);
    children.push(lab);
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { udp: number };
    const server = `sip:127.0.0.1:${ready.udp};transport=udp`;
    const first = await servePhone(['--user', 'alice', '--server', server, '--signing-keys', keys]);
    children.push(first.child);
    const second = await servePhone(['--user', 'bob', '--server', server]);
    children.push(second.child);
    ({ browser, alice, bob } = await openPhonePages(first.url, second.url));
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(children.map((c) => c.stop()));
  });

  /** The verdicts the diagnostics pane shows for the first message of this kind in the newest call. */
  async function verdicts(page: Page, arrow: { dir: 'in' | 'out'; text: string }): Promise<string[]> {
    await page.locator('.history-entry .party').first().click();
    const pane = page.getByRole('dialog', { name: 'Call diagnostics' });
    await pane.waitFor({ timeout: 10_000 });
    await pane.locator(`.ladder-arrow.${arrow.dir}`, { hasText: arrow.text }).first().click();
    await expect.poll(() => pane.locator('table.signatures td.verdict').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    return pane.locator('table.signatures td.verdict').allTextContents();
  }

  it('alice, with the key file, sees valid signatures; bob, without keys, sees them decoded but not verified', async () => {
    await answeredCall(alice, bob);
    await expect.poll(() => bob.locator('.history-entry .result').first().textContent(), { timeout: 15_000 }).toBe('Answered');

    expect(new Set(await verdicts(alice, { dir: 'in', text: '200 OK (INVITE)' }))).toEqual(new Set(['valid']));
    // Bob's INVITE carries the Record-Route and callee route-set signatures: decoded, but he holds no keys.
    expect(new Set(await verdicts(bob, { dir: 'in', text: 'INVITE' }))).toEqual(new Set(['not verified']));
  });
});
