import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Child } from '../test/support/child.js';
import { missingRequirements } from '../test/support/tools.js';
import type { launchChromium } from './support/browser.js';
import { openPhonePages } from './support/phone-pages.js';
import { servePhone } from './support/served-phone.js';

const skip = missingRequirements(['chromium']);

describe.skipIf(skip)('two served phones in Chromium call each other through the embedded lab', () => {
  const children: Child[] = [];
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    const first = await servePhone(['--user', 'alice', '--display', 'Alice Liddell']);
    children.push(first.child);
    const second = await servePhone(['--user', 'bob', '--transport', 'tcp', '--server', first.lab!.tcp]);
    children.push(second.child);
    ({ browser, alice, bob } = await openPhonePages(first.url, second.url));
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(children.map((c) => c.stop()));
  });

  it('both show their registration', async () => {
    await expect.poll(() => alice.locator('[data-account="alice"] .state').textContent(), { timeout: 15_000 }).toBe('Registered');
    await expect.poll(() => bob.locator('[data-account="bob"] .state').textContent(), { timeout: 15_000 }).toBe('Registered');
  });

  it('alice types a number with the keyboard and calls; bob answers; both are in the call; alice hangs up with Esc', async () => {
    await alice.getByLabel('Number, user or SIP address').fill('bob');
    await alice.keyboard.press('Enter');
    const incoming = bob.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 15_000 });
    expect(await incoming.locator('.party').textContent()).toBe('Alice Liddell');
    // Bob's first press on his page is on Answer. It also lets the page play sound, and the hint that asked for that
    // click goes, moving everything below it up: not before the press is released, or the button would move away
    // from under the pointer and the press would answer nothing (the first Answer of a fresh page was lost so).
    const hint = bob.getByRole('status').filter({ hasText: 'Click anywhere on this page once' });
    await hint.waitFor({ timeout: 5000 });
    const box = (await incoming.getByRole('button', { name: 'Answer' }).boundingBox())!;
    await bob.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await bob.mouse.down();
    await expect.poll(() => bob.evaluate<boolean>('window.veilphoneTones.ringer.blocked()'), { timeout: 5000 }).toBe(false);
    await bob.evaluate('new Promise((resolve) => setTimeout(resolve, 200))'); // time for a render that must not come
    expect(await hint.count()).toBe(1);
    await bob.mouse.up();
    await hint.waitFor({ state: 'detached', timeout: 5000 });
    await expect.poll(() => alice.locator('.call-state').textContent(), { timeout: 15_000 }).toMatch(/^In call/);
    await expect.poll(() => bob.locator('.call-state').textContent(), { timeout: 15_000 }).toMatch(/^In call/);
    await alice.locator('body').press('Escape');
    await alice.getByRole('button', { name: 'Call', exact: true }).waitFor({ timeout: 15_000 });
    await bob.getByRole('button', { name: 'Call', exact: true }).waitFor({ timeout: 15_000 });
    await expect.poll(() => alice.locator('.history-entry .result').first().textContent(), { timeout: 10_000 }).toBe('Answered');
    await expect.poll(() => bob.locator('.history-entry .party').first().textContent(), { timeout: 10_000 }).toBe('Alice Liddell');
  });

  it('a rejected call shows as rejected on the caller\'s side', async () => {
    await alice.getByLabel('Number, user or SIP address').fill('bob');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    const incoming = bob.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 15_000 });
    await incoming.getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => alice.locator('.history-entry .result').first().textContent(), { timeout: 10_000 }).toBe('Busy');
  });
});
