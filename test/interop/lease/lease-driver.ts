/**
 * The phone side of the DHCP/TFTP interop test and benchmark, run inside the phone's network namespace
 * (`ip netns exec NS node --import tsx lease-driver.ts '<json>'`): real DHCP on 0.0.0.0:68 with broadcast, the
 * leased address put on the interface, the config fetched by TFTP. Prints one JSON object per line.
 */
import fs from 'node:fs';
import { parseHardwareAddress } from '../../../core/lease/dhcp-message.js';
import { LeaseClient, type LeaseEvent, type LeaseTiming } from '../../../core/lease/lease-client.js';
import { LeaseError } from '../../../core/lease/lease-error.js';
import { FileLeaseStore } from '../../../core/lease/lease-store.js';
import { UdpLeaseTransport } from '../../../core/lease/lease-transport.js';
import { provision } from '../../../core/lease/provisioner.js';
import { InterfaceLeaseApplier } from '../../../core/phone/interface-lease-applier.js';
import { timedLease, type LeaseRound } from '../../support/lease-timing.js';

interface DriverConfig {
  mode: 'provision' | 'bench';
  iface: string;
  vendorClass: string;
  dataDir?: string;
  timing?: Partial<LeaseTiming>;
  tftpTimeoutMs?: number;
  /** provision: wait for one renewal before stopping. */
  waitRenew?: boolean;
  /** bench: acquisitions to time. */
  rounds?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as DriverConfig;
const print = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
// an interface without addresses is missing from os.networkInterfaces(); sysfs always has its MAC
const hardwareAddress = parseHardwareAddress(fs.readFileSync(`/sys/class/net/${config.iface}/address`, 'utf8').trim());
const applier = new InterfaceLeaseApplier(config.iface);
await applier.ensureBroadcastRoute();

async function newClient(withApplier: boolean): Promise<LeaseClient> {
  const transport = await UdpLeaseTransport.open();
  return new LeaseClient({
    transport,
    hardwareAddress,
    vendorClass: config.vendorClass,
    ...(config.dataDir ? { store: new FileLeaseStore(config.dataDir) } : {}),
    ...(withApplier ? { applier } : {}),
    ...(config.timing ? { timing: config.timing } : {}),
  });
}

let current: LeaseClient | undefined;
try {
  if (config.mode === 'provision') {
    const client = (current = await newClient(true));
    client.on((event: LeaseEvent) => print({ event: 'lease', ...event }));
    const provisioned = await provision({ lease: client, tftp: { timeoutMs: config.tftpTimeoutMs ?? 1000, attemptDelayMs: 200 }, onTftpEvent: (e) => print({ event: 'tftp', ...e }) });
    print({ event: 'provisioned', lease: provisioned.lease, result: provisioned.result, source: provisioned.source, attempts: provisioned.attempts, counters: client.counters });
    if (config.waitRenew) {
      await new Promise<void>((resolve) => {
        const off = client.on((event) => {
          if (event.type === 'bound' && event.renewed) {
            off();
            resolve();
          }
        });
      });
    }
    await client.stop();
    print({ event: 'stopped', counters: client.counters });
  } else {
    // time DISCOVER sent → BOUND, and inside it the client's own time (OFFER received → REQUEST sent)
    const rounds: LeaseRound[] = [];
    for (let i = 0; i < (config.rounds ?? 20); i++) {
      const client = await newClient(false);
      rounds.push(await timedLease(client));
      await client.stop();
    }
    print({ event: 'bench', rounds });
  }
} catch (error) {
  print({ event: 'error', code: error instanceof LeaseError ? error.code : 'UNEXPECTED', message: (error as Error).message });
  process.exitCode = 1;
  // Fig. 5B 584: provisioning failed — give the lease back and the address up, as a reboot would
  await current?.stop().catch(() => undefined);
}
