import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../test/support/child.js';
import { missingRequirements } from '../test/support/tools.js';
import { launchChromium } from './support/browser.js';
import { ScriptedAgent } from './support/scripted-agent.js';
import { servePhone } from './support/served-phone.js';

const skip = missingRequirements(['chromium', 'openssl']);

/**
 * Issue 18: a call over TLS with SRTP through `veilphone serve --transport tls` (its embedded lab's TLS listener and
 * the certificate it made), to a scripted agent on that listener pinning the same certificate. The UI shows the
 * closed lock with the SRTP suite and the certificate's SHA-256 fingerprint during the call, in the history row and in
 * the diagnostics pane.
 */
describe.skipIf(skip)('an encrypted call shows its lock (TLS + SRTP through veilphone serve)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-e2e-tls-'));
  let child: Child | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let agent: ScriptedAgent | undefined;
  let page: Page;
  let fingerprint: string;

  beforeAll(async () => {
    const served = await servePhone(['--user', 'alice', '--transport', 'tls'], { dataDir });
    child = served.child;
    fingerprint = new X509Certificate(fs.readFileSync(path.join(dataDir, 'lab-tls', 'cert.pem'))).fingerprint256;
    agent = new ScriptedAgent({ user: 'bob', server: served.lab!.tls!, transport: 'tls', tls: { fingerprint }, domain: '127.0.0.1', toneHz: 1000 });
    await agent.phone.register();
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(served.url);
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.phone.shutdown();
    await child?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the in-call view, the history row and the diagnostics pane show the closed lock with the suite and the fingerprint', async () => {
    await expect.poll(() => page.locator('[data-account="alice"] .state').textContent(), { timeout: 20_000 }).toBe('Registered');
    await page.getByLabel('Number, user or SIP address').fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.call-state').textContent(), { timeout: 20_000 }).toMatch(/^In call/);
    // the agent's side agrees: TLS signalling, SRTP media
    await expect.poll(() => agent!.incoming()[0]?.media?.encryption, { timeout: 10_000 }).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });

    const lock = page.locator('.active-call .call-lock');
    await expect.poll(() => lock.getAttribute('data-lock'), { timeout: 10_000 }).toBe('encrypted');
    expect(await lock.locator('.lock-media').textContent()).toBe('SRTP · AES_CM_128_HMAC_SHA1_80');
    expect(await lock.locator('.lock-signaling').textContent()).toMatch(/^TLS · TLSv1\.[23] \S+$/);
    expect(await lock.locator('.lock-fingerprint').textContent()).toBe(fingerprint);
    expect(await page.getByRole('region', { name: /^Encryption: Encrypted\./ }).count()).toBe(1);

    await page.locator('body').press('Escape');
    await expect.poll(() => page.locator('.history-entry .result').first().textContent(), { timeout: 15_000 }).toBe('Answered');
    const rowLock = page.locator('.history-entry').first().getByRole('img', { name: /^Encryption: Encrypted\./ });
    const label = (await rowLock.getAttribute('aria-label'))!;
    expect(label).toMatch(/^Encryption: Encrypted\. Signalling: TLS · TLSv1\.[23] \S+, Server certificate \(SHA-256\) (\S+)\. Voice: SRTP · AES_CM_128_HMAC_SHA1_80\.$/);
    expect(label).toContain(fingerprint);

    // the diagnostics pane reads it back from the call log
    await page.locator('.history-entry').first().getByRole('button', { name: /^Details of the call with/ }).click();
    const pane = page.getByRole('dialog', { name: 'Call diagnostics' });
    const paneLock = pane.locator('.call-lock');
    await expect.poll(() => paneLock.getAttribute('data-lock'), { timeout: 10_000 }).toBe('encrypted');
    expect(await paneLock.locator('.lock-fingerprint').textContent()).toBe(fingerprint);
    expect(await paneLock.locator('.lock-media').textContent()).toBe('SRTP · AES_CM_128_HMAC_SHA1_80');
    await page.screenshot({ path: 'test-results/e2e/encrypted-call-diagnostics.png' });
  });
});
