import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../test/support/child.js';
import { missingRequirements } from '../test/support/tools.js';
import { launchChromium } from './support/browser.js';
import { ScriptedAgent } from './support/scripted-agent.js';
import { servePhone } from './support/served-phone.js';

const skip = missingRequirements(['chromium']);

/**
 * SPEC C in the desktop UI: `veilphone serve --provision dhcp` leases an address and a port range from the embedded
 * lab's service gateway, fetches its boot file by TFTP and registers at the leased soft switch. The status bar shows
 * the lease and the ports a call takes from it; the call log keeps the lease the call ran on.
 */
describe.skipIf(skip)('a phone provisioned by DHCP, in Chromium', () => {
  let served: Child;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let agent: ScriptedAgent;
  let lease: { address: string; ports: { min: number; max: number }; mgc: string[]; nat?: string };

  beforeAll(async () => {
    const phone = await servePhone(['--user', 'alice', '--provision', 'dhcp']);
    served = phone.child;
    lease = JSON.parse(served.stdout.match(/^\{"event":"ready".*\}$/m)![0]).lease;
    agent = new ScriptedAgent({ user: 'bob', server: phone.lab!.udp, domain: '127.0.0.1', toneHz: 1000 });
    await agent.phone.register();
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(phone.url);
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.phone.shutdown();
    await served?.stop();
  });

  const leaseText = () => page.locator('.status-bar .lease').textContent({ timeout: 1000 }).catch(() => null);

  it('shows the bound lease, and the ports a call takes from it and gives back', async () => {
    expect(lease).toMatchObject({ address: expect.stringMatching(/^10\.77\.0\.\d+$/), nat: '198.51.100.7' });
    expect(lease.mgc).toHaveLength(2); // primary and secondary soft switch (option 225)
    await expect.poll(() => page.locator('[data-account="alice"] .state').textContent(), { timeout: 20_000 }).toBe('Registered');
    const capacity = lease.ports.max - lease.ports.min + 1;
    const range = `${lease.address} · ports ${lease.ports.min}-${lease.ports.max}`;
    expect(await page.locator('.status-bar .lease').getAttribute('data-lease')).toBe('bound');
    // one port in use: the account's SIP socket
    expect(await leaseText()).toMatch(new RegExp(`^Lease bound: ${range.replace(/\./g, '\\.')} \\(1/${capacity}\\) · NAT 198\\.51\\.100\\.7 · until `));

    await page.getByLabel('Number, user or SIP address').fill('bob');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.call-state').textContent({ timeout: 1000 }).catch(() => null), { timeout: 15_000 }).toMatch(/^In call/);
    // the call's RTP/RTCP pair comes from the lease too
    await expect.poll(leaseText, { timeout: 10_000 }).toContain(`(3/${capacity})`);
    await page.locator('body').press('Escape');
    await expect.poll(leaseText, { timeout: 10_000 }).toContain(`(1/${capacity})`);

    await expect.poll(() => page.locator('.history-entry .result').first().textContent(), { timeout: 15_000 }).toBe('Answered');
    await page.locator('.history-entry .party').first().click();
    const pane = page.getByRole('dialog', { name: 'Call diagnostics' });
    await pane.waitFor({ timeout: 10_000 });
    expect(await pane.locator('[data-fact="fact_lease"] dd').textContent()).toBe(`${lease.address} ports ${lease.ports.min}-${lease.ports.max} via NAT 198.51.100.7`);
    const rtp = await pane.locator('[data-fact="fact_rtp"] dd').textContent();
    const localRtpPort = Number(/:(\d+) ↔/.exec(rtp ?? '')?.[1]);
    expect(localRtpPort).toBeGreaterThanOrEqual(lease.ports.min);
    expect(localRtpPort).toBeLessThanOrEqual(lease.ports.max);
  });
});
