import os from 'node:os';
import { parseHardwareAddress } from '../core/lease/dhcp-message.js';
import { LeaseClient } from '../core/lease/lease-client.js';
import { UdpLeaseTransport } from '../core/lease/lease-transport.js';
import { LabDhcpServer } from '../lab/service-gateway/dhcp-server.js';
import { driverLines, GATEWAY_MGC, GatewayPeers } from '../test/support/gateway-peers.js';
import { canCreateNamespaces, hasTool } from '../test/support/tools.js';
import { timedLease, type LeaseRound } from '../test/support/lease-timing.js';
import { median, ms, quantile, type BenchResult } from './bench-result.js';

const rounds = Number(process.env.BENCH_LEASES ?? 50);

/** The same LeaseClient against the lab's DHCP server on loopback, both in this process. */
async function againstLab(count: number): Promise<LeaseRound[]> {
  const server = await LabDhcpServer.start({
    serverId: '10.77.0.1',
    pool: { first: '10.77.0.10', last: '10.77.0.250' },
    subnetMask: '255.255.255.0',
    vendorClasses: { 'Veilphone-1': 20 },
    mgc: GATEWAY_MGC,
    natAddress: '198.51.100.7',
    tftp: { server: '10.77.0.1', bootFile: 'veilphone.cfg' },
  });
  const out: LeaseRound[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const client = new LeaseClient({ transport: await UdpLeaseTransport.loopback(server.endpoint), hardwareAddress: parseHardwareAddress('02:00:5e:10:00:01'), vendorClass: 'Veilphone-1' });
      out.push(await timedLease(client));
      await client.stop();
    }
  } finally {
    await server.stop();
  }
  return out;
}

/** The phone (test/interop/lease/lease-driver.ts, its own process) against dnsmasq, over a veth pair between namespaces. */
async function againstDnsmasq(): Promise<LeaseRound[] | string> {
  if (!canCreateNamespaces()) return 'needs root for network namespaces';
  if (!hasTool('dnsmasq')) return 'dnsmasq is not installed';
  const mac = '02:00:5e:10:00:01';
  const peers = new GatewayPeers({ tag: 'bn', phoneMac: mac, phones: [{ mac, address: '10.77.0.21', ports: { min: 20000, max: 20019 } }], tftp: false });
  try {
    await peers.start();
    const driver = peers.driver({ mode: 'bench', vendorClass: 'Veilphone-1', rounds });
    const code = await driver.exitCode(90_000);
    const result = driverLines(driver).find((l) => l.event === 'bench') as { rounds?: LeaseRound[] } | undefined;
    if (code !== 0 || !result?.rounds) return `driver failed (${code}): ${driver.stdout.slice(-500)} ${driver.stderr.slice(-500)}`;
    return result.rounds;
  } finally {
    await peers.destroy();
  }
}

function row(name: string, data: LeaseRound[]): string {
  const total = data.map((r) => r.totalMs);
  const client = data.map((r) => r.clientMs);
  const server = data.map((r) => r.serverMs);
  return `| ${name} | ${data.length} | ${ms(median(total))} | ${ms(quantile(total, 0.9))} | ${ms(median(client))} | ${ms(median(server))} |`;
}

/** `npm run bench -- lease`: DISCOVER → BOUND against the lab's DHCP server and against dnsmasq, in one run. */
export async function benchLease(): Promise<BenchResult> {
  // lab, dnsmasq, lab again: the machine's load (shared, 2 cores) drifts, and this spreads it over both sides
  const before = await againstLab(Math.ceil(rounds / 2));
  const dnsmasq = await againstDnsmasq();
  const lab = [...before, ...(await againstLab(Math.floor(rounds / 2)))];
  const load = os.loadavg()[0]!.toFixed(1);
  const lines = [
    `${rounds} sequential leases per server (DISCOVER → OFFER → REQUEST → ACK, then RELEASE before the next). The`,
    'phone is the same LeaseClient both times: against the lab\'s DHCP server over loopback in one process, and from',
    'its own process in a network namespace against dnsmasq (deploy/dnsmasq/veilphone-dhcp.conf, with log-dhcp)',
    'over a veth pair with real broadcast. "phone" is the client\'s own time (OFFER → REQUEST sent, ACK → BOUND);',
    `"server + network" is the rest. Lab rounds run half before and half after the dnsmasq ones; load average ${load}.`,
    '',
    '| server | n | DISCOVER → BOUND median | p90 | phone median | server + network median |',
    '| --- | --- | --- | --- | --- | --- |',
    row('Veilphone lab DHCP (loopback)', lab),
  ];
  const ratios: Record<string, number> = {};
  if (typeof dnsmasq === 'string') {
    lines.push(`| dnsmasq 2.90 (namespace) | — | not measured: ${dnsmasq} | | | |`);
  } else {
    lines.push(row('dnsmasq 2.90 (namespace)', dnsmasq));
    const labTotal = median(lab.map((r) => r.totalMs));
    const dnsTotal = median(dnsmasq.map((r) => r.totalMs));
    const phoneShare = median(dnsmasq.map((r) => r.clientMs / r.totalMs));
    ratios['lab/dnsmasq DISCOVER→BOUND'] = labTotal / dnsTotal;
    ratios['phone share against dnsmasq'] = phoneShare;
    lines.push(
      '',
      `Lab ÷ dnsmasq, DISCOVER → BOUND: **${(labTotal / dnsTotal).toFixed(2)}×**. Against dnsmasq the phone's own work is ` +
        `${(phoneShare * 100).toFixed(1)} % of the exchange (median), ${phoneShare < 0.5 ? 'so the phone is not the slow side' : 'so the phone IS the slow side'}.`,
    );
  }
  return { title: 'Lease: DHCP DISCOVER → BOUND (issue 6)', lines, ratios };
}
