import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child } from '../support/child.js';
import { driverLines, GATEWAY_MGC, GATEWAY_NAT, GatewayPeers } from '../support/gateway-peers.js';
import { projectRoot } from '../support/veilphone-cli.js';
import { missingRequirements } from '../support/tools.js';

const skip = missingRequirements(['ip', 'dnsmasq', 'in.tftpd', 'ss'], { namespaces: true });

const PHONE_MAC = '02:00:5e:10:00:01';
const timing = { initialWaitMs: 300, maxWaitMs: 1200, jitterMs: 100, maxDiscoverRounds: 3, requestAttempts: 3, minRenewWaitMs: 200 };

/**
 * seed 003 Figs. 4B, 5A/5B against real peers: the phone, in its own network namespace, leases from dnsmasq run with
 * deploy/dnsmasq/veilphone-dhcp.conf (vendor-class match, per-phone port range, MGC/NAT/TFTP options as hex) and
 * fetches its config from tftpd-hpa run with deploy/tftpd/tftpd-hpa; DHCP on ports 67/68 with broadcast.
 */
describe.skipIf(skip)('lease and provisioning from dnsmasq and tftpd-hpa', () => {
  const peers = new GatewayPeers({
    tag: 'ls',
    phoneMac: PHONE_MAC,
    leaseTime: '2m',
    phones: [
      { mac: PHONE_MAC, address: '10.77.0.21', ports: { min: 20000, max: 20019 } },
      { mac: '02:00:5e:10:00:02', address: '10.77.0.22', ports: { min: 20020, max: 20099 } },
    ],
  });
  beforeAll(async () => {
    await peers.start();
  });
  afterAll(async () => {
    await peers.destroy();
  });

  it('leases with the port range, MGCs, NAT and TFTP options, downloads and applies the config, renews at T1 and releases', async () => {
    const dataDir = fs.mkdtempSync(path.join(peers.dir, 'phone-'));
    // secondMs 10: dnsmasq's shortest lease (2 min) has T1 at 60 s, which the phone then reaches after 0.6 s
    const driver = peers.driver({ mode: 'provision', vendorClass: 'Veilphone-1', dataDir, timing: { ...timing, secondMs: 10 }, waitRenew: true });
    expect(await driver.exitCode(60_000), driver.stderr).toBe(0);
    const lines = driverLines(driver);
    const provisioned = lines.find((l) => l.event === 'provisioned') as unknown as { lease: Record<string, unknown>; result: { accounts: Array<Record<string, unknown>>; mgc: unknown; natAddress: string }; source: string; attempts: number };
    expect(provisioned.lease).toMatchObject({ source: 'dhcp', address: '10.77.0.21', serverId: '10.77.0.1', portRange: { min: 20000, max: 20019 }, mgc: GATEWAY_MGC, natAddress: GATEWAY_NAT, tftpServer: '10.77.0.1', bootFile: 'veilphone.cfg' });
    expect(provisioned.source).toBe('tftp');
    expect(provisioned.attempts).toBe(1);
    expect(provisioned.result.mgc).toEqual(GATEWAY_MGC);
    expect(provisioned.result.natAddress).toBe(GATEWAY_NAT);
    expect(provisioned.result.accounts).toEqual([expect.objectContaining({ id: 'desk', user: '1001', server: 'sip:10.77.0.5:5060', transport: 'udp', registerExpires: 600, dialRules: expect.any(Array) })]);
    const states = lines.filter((l) => l.event === 'lease' && l.type === 'state').map((l) => l.to);
    expect(states).toEqual(['SELECTING', 'REQUESTING', 'BOUND', 'RENEWING', 'BOUND', 'STOPPED']);
    expect(lines.some((l) => l.event === 'tftp' && l.type === 'oack')).toBe(true);
    const stopped = lines.find((l) => l.event === 'stopped') as unknown as { counters: { sent: Record<string, number>; rejected: object } };
    expect(stopped.counters.sent).toEqual({ DISCOVER: 1, REQUEST: 2, RELEASE: 1 });
    expect(stopped.counters.rejected).toEqual({});
    // dnsmasq saw all of it, and honoured the RELEASE
    const log = peers.dnsmasq!.stderr + peers.dnsmasq!.stdout;
    expect(log).toMatch(/DHCPACK\(\S+\) 10\.77\.0\.21 02:00:5e:10:00:01/);
    expect(log).toMatch(/DHCPRELEASE\(\S+\) 10\.77\.0\.21 02:00:5e:10:00:01/);
    expect(fs.readFileSync(path.join(peers.dir, 'dnsmasq.leases'), 'utf8')).not.toContain('10.77.0.21');
    // the lease was stored in the data dir, marked released
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'lease.json'), 'utf8'))).toMatchObject({ released: true, vendorClass: 'Veilphone-1', lease: { address: '10.77.0.21' } });
  });

  it('a wrong vendor class gets no offer and keeps rediscovering within its bound, then fails with NO_USABLE_OFFER', async () => {
    const before = (peers.dnsmasq!.stderr + peers.dnsmasq!.stdout).length;
    const driver = peers.driver({ mode: 'provision', vendorClass: 'Acme-Phone', timing });
    expect(await driver.exitCode(60_000)).toBe(1);
    const lines = driverLines(driver);
    expect(lines.find((l) => l.event === 'error')).toMatchObject({ event: 'error', code: 'NO_USABLE_OFFER' });
    const rounds = lines.filter((l) => l.event === 'lease' && l.type === 'discover') as unknown as Array<{ round: number; waitMs: number }>;
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    for (const [i, r] of rounds.entries()) {
      const base = Math.min(timing.maxWaitMs, timing.initialWaitMs * 2 ** i);
      expect(Math.abs(r.waitMs - base)).toBeLessThanOrEqual(timing.jitterMs);
    }
    expect(lines.some((l) => l.event === 'lease' && l.type === 'received')).toBe(false);
    const log = (peers.dnsmasq!.stderr + peers.dnsmasq!.stdout).slice(before);
    expect(log.match(/DHCPDISCOVER\(\S+\) 02:00:5e:10:00:01 ignored/g)?.length).toBe(3);
    expect(log).toContain('vendor class: Acme-Phone');
  });

  it('veilphone serve --provision dhcp --dhcp-interface: leases on the link, registers from the leased address and ports at the soft switch the boot file names, and gives everything back when stopped', async () => {
    const { pair } = peers;
    const [mgc] = GATEWAY_MGC;
    // The primary soft switch the DHCP lease names (option 225): a lab on its address in the network namespace.
    pair.exec(pair.net, 'ip', ['addr', 'add', `${mgc!.address}/24`, 'dev', pair.netIf]);
    const bin = path.join(projectRoot, 'bin/veilphone.js');
    const dataDir = (name: string): string => fs.mkdtempSync(path.join(peers.dir, `${name}-`));
    const lab = new Child(pair.spawn(pair.net, process.execPath, [bin, '--data-dir', dataDir('lab'), 'lab', '--address', mgc!.address, '--udp', String(mgc!.port), '--tcp', '0', '--ws', '0', '--admin', '0', '--json'], { cwd: projectRoot }));
    const phone = new Child(pair.spawn(pair.phone, process.execPath, [bin, '--data-dir', dataDir('phone'), 'serve', '--provision', 'dhcp', '--dhcp-interface', pair.phoneIf, '--user', 'desk', '--json'], { cwd: projectRoot }));
    try {
      const admin = (JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { admin: string }).admin;
      const bindings = (): Array<{ user: string; source: string }> =>
        (JSON.parse(pair.exec(pair.net, process.execPath, ['-e', `fetch(${JSON.stringify(admin)}).then((r) => r.text()).then((t) => process.stdout.write(t))`])) as { sip: { bindings: Array<{ user: string; source: string }> } }).sip.bindings;

      const ready = JSON.parse((await phone.waitFor(/^\{"event":"ready".*\}$/m, 60_000))[0]) as { sip: string; lab?: unknown; lease: Record<string, unknown> };
      expect(ready.lab).toBeUndefined(); // no embedded lab: everything came from the network
      expect(ready.sip).toBe(`sip:${mgc!.address}:${mgc!.port};transport=udp`);
      expect(ready.lease).toMatchObject({ address: '10.77.0.21', ports: { min: 20000, max: 20019 }, mgc: GATEWAY_MGC.map((m) => `${m.address}:${m.port}`) });
      expect(pair.exec(pair.phone, 'ip', ['-4', 'addr', 'show', 'dev', pair.phoneIf])).toContain('inet 10.77.0.21/24');

      // Registered from the leased address, on a port of the leased range (seed 003 ¶ on the port range).
      const deadline = Date.now() + 15_000;
      let binding: { user: string; source: string } | undefined;
      while (!(binding = bindings().find((b) => b.user === 'desk')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(binding, phone.stderr).toBeDefined();
      const [address, port] = binding!.source.replace(/^\w+:/, '').split(':');
      expect(address).toBe('10.77.0.21');
      expect(Number(port)).toBeGreaterThanOrEqual(20000);
      expect(Number(port)).toBeLessThanOrEqual(20019);

      // Stopped: unregistered, the lease released to dnsmasq, the address off the interface.
      await phone.stop(10_000);
      expect(phone.process.exitCode, phone.stderr).toBe(0);
      expect(bindings().find((b) => b.user === 'desk')).toBeUndefined();
      expect(peers.dnsmasq!.stderr + peers.dnsmasq!.stdout).toMatch(/DHCPRELEASE\(\S+\) 10\.77\.0\.21 02:00:5e:10:00:01/);
      expect(pair.exec(pair.phone, 'ip', ['-4', 'addr', 'show', 'dev', pair.phoneIf])).not.toContain('10.77.0.21');
    } finally {
      phone.kill();
      await lab.stop(1000).catch(() => undefined);
      pair.exec(pair.net, 'ip', ['addr', 'del', `${mgc!.address}/24`, 'dev', pair.netIf]);
    }
  });

  it('a phone whose MAC dnsmasq does not know gets no offer (Fig. 5A 510)', async () => {
    peers.pair.exec(peers.pair.phone, 'ip', ['link', 'set', 'dev', peers.pair.phoneIf, 'address', '02:00:5e:99:99:99']);
    try {
      const driver = peers.driver({ mode: 'provision', vendorClass: 'Veilphone-1', timing: { ...timing, maxDiscoverRounds: 1 } });
      expect(await driver.exitCode(60_000)).toBe(1);
      expect(driverLines(driver).find((l) => l.event === 'error')).toMatchObject({ event: 'error', code: 'NO_USABLE_OFFER' });
      expect(peers.dnsmasq!.stderr + peers.dnsmasq!.stdout).toMatch(/DHCPDISCOVER\(\S+\) 02:00:5e:99:99:99 ignored/);
    } finally {
      peers.pair.exec(peers.pair.phone, 'ip', ['link', 'set', 'dev', peers.pair.phoneIf, 'address', PHONE_MAC]);
    }
  });

  it('a boot file missing on tftpd-hpa: four attempts, each "file not found", then TFTP_FILE_NOT_FOUND', async () => {
    const file = path.join(peers.dir, 'tftp', 'veilphone.cfg');
    const content = fs.readFileSync(file);
    fs.rmSync(file);
    try {
      const driver = peers.driver({ mode: 'provision', vendorClass: 'Veilphone-1', timing, tftpTimeoutMs: 1000 });
      expect(await driver.exitCode(60_000)).toBe(1);
      const lines = driverLines(driver);
      expect(lines.find((l) => l.event === 'error')).toMatchObject({ event: 'error', code: 'TFTP_FILE_NOT_FOUND' });
      expect(lines.filter((l) => l.event === 'tftp' && l.type === 'failed-attempt').map((l) => l.code)).toEqual(Array(4).fill('TFTP_FILE_NOT_FOUND'));
    } finally {
      fs.writeFileSync(file, content, { mode: 0o644 });
    }
  });
});
