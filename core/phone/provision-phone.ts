import { randomBytes } from 'node:crypto';
import type { AccountConfig } from '../api/phone-types.js';
import { leaseSummary, type Lease } from '../lease/lease.js';
import { LeaseClient, type LeaseTiming } from '../lease/lease-client.js';
import { FileLeaseStore, MemoryLeaseStore } from '../lease/lease-store.js';
import { UdpLeaseTransport, type LeaseEndpoint } from '../lease/lease-transport.js';
import { PortPool } from '../lease/port-pool.js';
import { provision } from '../lease/provisioner.js';
import type { PhoneLease } from './phone.js';

/** Where the lab's service gateway answers: DHCP over loopback and TFTP (whose port DHCP cannot carry). */
export interface ServiceGatewayEndpoints {
  dhcp: LeaseEndpoint;
  tftp: LeaseEndpoint;
}

export interface ProvisionedPhone {
  lease: Lease;
  phoneLease: PhoneLease;
  /** The settings provisioning decided: the primary soft switch, the secondary as backup, the dial plan. */
  account: Pick<AccountConfig, 'server' | 'backupServers' | 'dialRules'>;
  /** The report's view: leased address, port range, soft switches, NAT address. */
  summary: ReturnType<typeof leaseSummary>;
  /** RELEASE the lease (the phone is going away); the phone does it itself on shutdown. Once only. */
  release(): Promise<void>;
}

/** The vendor class (option 60) a Veilphone sends unless told otherwise; the lab's gateway serves it 20 ports. */
export const phoneVendorClass = 'Veilphone-1';

/** DHCP timings for the lab's loopback gateway, which answers at once: retries come quickly. */
const loopbackTiming: Partial<LeaseTiming> = { initialWaitMs: 300, maxWaitMs: 1200, jitterMs: 100, maxDiscoverRounds: 4 };

/**
 * Seed 003 Figs. 4A/5A-5B for a phone that is provisioned (a scenario agent with `provision: dhcp`, `veilphone serve
 * --provision dhcp`): DISCOVER with its vendor class and client id over the lab's loopback DHCP, then the boot file
 * by TFTP, applied. The phone's own settings (user, display name) stay; the soft switches, the dial plan and the port
 * range come from provisioning. The lease client keeps running (RENEWING at T1, REBINDING at T2) and the phone
 * watches it through `phoneLease.watch`; the phone's shutdown releases the lease (`phoneLease.release`).
 */
export async function provisionPhone(options: { gateway: ServiceGatewayEndpoints; vendorClass?: string; clientId?: string; dataDir?: string; timing?: Partial<LeaseTiming> }): Promise<ProvisionedPhone> {
  const transport = await UdpLeaseTransport.loopback(options.gateway.dhcp);
  // A locally administered unicast MAC (IEEE 802: bit 1 of the first octet set, bit 0 clear) for this agent.
  const mac = randomBytes(6);
  mac[0] = (mac[0]! & 0xfc) | 0x02;
  const client = new LeaseClient({
    transport,
    hardwareAddress: mac,
    vendorClass: options.vendorClass ?? phoneVendorClass,
    ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
    store: options.dataDir !== undefined ? new FileLeaseStore(options.dataDir) : new MemoryLeaseStore(),
    timing: { ...loopbackTiming, ...options.timing },
  });
  try {
    const provisioned = await provision({ lease: client, tftp: { port: options.gateway.tftp.port, timeoutMs: 1000 } });
    const [primary, ...backups] = provisioned.result.mgc;
    const uri = (m: { address: string; port: number }): string => `sip:${m.address}:${m.port};transport=udp`;
    let released: Promise<void> | undefined;
    const release = (): Promise<void> => (released ??= client.stop({ release: true }).catch(() => undefined)); // closes the transport too
    return {
      lease: provisioned.lease,
      phoneLease: {
        pool: PortPool.fromLease(provisioned.lease),
        privateAddress: provisioned.lease.address,
        ...(provisioned.lease.natAddress !== undefined ? { natAddress: provisioned.lease.natAddress } : {}),
        watch: client,
        release,
      },
      account: {
        server: uri(primary!),
        ...(backups.length > 0 ? { backupServers: backups.map(uri) } : {}),
        ...(provisioned.result.dialRules ? { dialRules: provisioned.result.dialRules } : {}),
      },
      summary: leaseSummary(provisioned.lease),
      release,
    };
  } catch (error) {
    await client.stop({ release: false }).catch(() => undefined);
    await transport.close();
    throw error;
  }
}
