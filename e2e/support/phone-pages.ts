import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium } from './browser.js';

/** Two served phones in one Chromium, one page each (alice's and bob's UI). */
export async function openPhonePages(aliceUrl: string, bobUrl: string): Promise<{ browser: Awaited<ReturnType<typeof launchChromium>>; alice: Page; bob: Page }> {
  const browser = await launchChromium();
  const alice = await browser.context.newPage();
  const bob = await browser.context.newPage();
  await alice.goto(aliceUrl);
  await bob.goto(bobUrl);
  return { browser, alice, bob };
}

/** Both registered; alice dials bob, bob answers, alice hangs up with Esc, and her history shows the call answered. */
export async function answeredCall(alice: Page, bob: Page): Promise<void> {
  await expect.poll(() => alice.locator('[data-account="alice"] .state').textContent(), { timeout: 15_000 }).toBe('Registered');
  await expect.poll(() => bob.locator('[data-account="bob"] .state').textContent(), { timeout: 15_000 }).toBe('Registered');
  await alice.getByLabel('Number, user or SIP address').fill('bob');
  await alice.keyboard.press('Enter');
  const incoming = bob.getByRole('alertdialog', { name: 'Incoming call' });
  await incoming.waitFor({ timeout: 15_000 });
  await incoming.getByRole('button', { name: 'Answer' }).click();
  await expect.poll(() => alice.locator('.call-state').textContent(), { timeout: 15_000 }).toMatch(/^In call/);
  await alice.locator('body').press('Escape');
  await expect.poll(() => alice.locator('.history-entry .result').first().textContent(), { timeout: 15_000 }).toBe('Answered');
}
