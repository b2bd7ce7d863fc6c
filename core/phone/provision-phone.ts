import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AccountConfig } from '../api/phone-types.js';
import { parseHardwareAddress } from '../lease/dhcp-message.js';
import { leaseSummary, type Lease } from '../lease/lease.js';
import { LeaseClient, type LeaseTiming } from '../lease/lease-client.js';
import { LeaseError } from '../lease/lease-error.js';
import { FileLeaseStore, MemoryLeaseStore } from '../lease/lease-store.js';
import { UdpLeaseTransport, type LeaseEndpoint, type LeaseTransport } from '../lease/lease-transport.js';
import { PortPool } from '../lease/port-pool.js';
import { provision } from '../lease/provisioner.js';
import type { PhoneLease } from './phone-lease.js';
import { InterfaceLeaseApplier } from './interface-lease-applier.js';

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
  /**
   * The boot file's `[account NAME]` for the phone's user (by NAME or by `user`): its display name, auth user,
   * password, registration expiry and anonymity, for the host to take where the user did not say otherwise. With no
   * user (the host was not told one), the file's first account, with its id and user. Undefined when none matches.
   */
  accountSettings(user?: string): ProvisionedAccountSettings | undefined;
  /** The report's view: leased address, port range, soft switches, NAT address. */
  summary: ReturnType<typeof leaseSummary>;
  /** RELEASE the lease (the phone is going away); the phone does it itself on shutdown. Once only. */
  release(): Promise<void>;
}

/** What a boot file's account gives the phone's account (provisioning-config.ts `[account NAME]`). */
export type ProvisionedAccountSettings = Partial<Pick<AccountConfig, 'id' | 'user' | 'displayName' | 'authUser' | 'password' | 'registerExpires' | 'anonymity'>>;

/**
 * A provisioned phone's account: what the host was told (`base`) filled in by the boot file's account for its user —
 * or, when the host was told no user (`userGiven` false), the file's first account, its id and user too — then the
 * soft switches and the dial plan of provisioning. What `base` says wins over the file. One rule for every host
 * (serve, start, the desktop app); a scenario agent's own settings win the same way (scenario-agents.ts).
 */
export function provisionedAccount<T extends { id: string; user: string }>(provisioned: ProvisionedPhone, base: T, userGiven = true): T & ProvisionedPhone['account'] & ProvisionedAccountSettings {
  const { id, user, ...settings } = provisioned.accountSettings(userGiven ? base.user : undefined) ?? {};
  return { ...settings, ...base, ...(id !== undefined && user !== undefined ? { id, user } : {}), ...provisioned.account };
}

/** The vendor class (option 60) a Veilphone sends unless told otherwise; the lab's gateway serves it 20 ports. */
export const phoneVendorClass = 'Veilphone-1';

/** DHCP timings for the lab's loopback gateway, which answers at once: retries come quickly. */
const loopbackTiming: Partial<LeaseTiming> = { initialWaitMs: 300, maxWaitMs: 1200, jitterMs: 100, maxDiscoverRounds: 4 };

/**
 * Where a phone leases from:
 * - `gateway`: the embedded lab's service gateway, over loopback (no privileges);
 * - `network`: the DHCP servers on a network interface, by broadcast from port 68 with the interface's own MAC; the
 *   leased address goes on the interface and comes off it when the lease ends. Needs CAP_NET_ADMIN and
 *   CAP_NET_BIND_SERVICE (root, or a network namespace in the tests), and sets the broadcast route through the
 *   interface, so it is meant for the phone's own network port.
 */
export type LeaseSource = { gateway: ServiceGatewayEndpoints } | { network: { interface: string } };

/** Linux interface names (dev_valid_name): 1-15 characters, not `.` or `..`, no `/`, `:` or space; they name a directory under /sys/class/net. */
const interfaceName = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,15}$/;

/** The lease client's link for `source`, the MAC it sends and what puts the leased address on the interface. */
export async function leaseLink(source: LeaseSource): Promise<{ transport: LeaseTransport; hardwareAddress: Buffer; applier?: InterfaceLeaseApplier; tftpPort?: number }> {
  if ('gateway' in source) {
    // A locally administered unicast MAC (IEEE 802: bit 1 of the first octet set, bit 0 clear) for this agent.
    const mac = randomBytes(6);
    mac[0] = (mac[0]! & 0xfc) | 0x02;
    return { transport: await UdpLeaseTransport.loopback(source.gateway.dhcp), hardwareAddress: mac, tftpPort: source.gateway.tftp.port };
  }
  const name = source.network.interface;
  if (!interfaceName.test(name)) throw new LeaseError('TRANSPORT_FAILED', `"${name}" is not a network interface name`);
  let hardwareAddress: Buffer;
  try {
    // sysfs has the MAC even of an interface without addresses (os.networkInterfaces() leaves those out)
    hardwareAddress = parseHardwareAddress(fs.readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim());
  } catch (error) {
    throw new LeaseError('TRANSPORT_FAILED', `no network interface "${name}" with a MAC address: ${(error as Error).message}`);
  }
  const applier = new InterfaceLeaseApplier(name);
  await applier.ensureBroadcastRoute();
  return { transport: await UdpLeaseTransport.open(), hardwareAddress, applier };
}

/**
 * Seed 003 Figs. 4A/5A-5B for a phone that is provisioned (a scenario agent with `provision: dhcp`, `veilphone serve
 * --provision dhcp`): DISCOVER with its vendor class and client id, then the boot file by TFTP, applied. The phone's
 * own settings (user, display name) stay; the soft switches, the dial plan and the port range come from
 * provisioning, and the boot file's account for the phone's user fills in what the user did not set
 * (`accountSettings`: its password, display name and the operator's anonymity). The lease client keeps running
 * (RENEWING at T1, REBINDING at T2) and the phone watches it through `phoneLease.watch`; the phone's shutdown releases
 * the lease (`phoneLease.release`).
 */
export async function provisionPhone(options: LeaseSource & { vendorClass?: string; clientId?: string; dataDir?: string; timing?: Partial<LeaseTiming> }): Promise<ProvisionedPhone> {
  const link = await leaseLink(options);
  const transport = link.transport;
  const client = new LeaseClient({
    transport,
    hardwareAddress: link.hardwareAddress,
    vendorClass: options.vendorClass ?? phoneVendorClass,
    ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
    ...(link.applier ? { applier: link.applier } : {}),
    store: options.dataDir !== undefined ? new FileLeaseStore(options.dataDir) : new MemoryLeaseStore(),
    timing: { ...('gateway' in options ? loopbackTiming : {}), ...options.timing },
  });
  try {
    const provisioned = await provision({ lease: client, tftp: { ...(link.tftpPort !== undefined ? { port: link.tftpPort } : {}), timeoutMs: 1000 } });
    const [primary, ...backups] = provisioned.result.mgc;
    const uri = (m: { address: string; port: number }): string => `sip:${m.address}:${m.port};transport=udp`;
    let released: Promise<void> | undefined;
    // closes the transport too; a failure reaches the caller (the phone counts it, a scenario reports it)
    const release = (): Promise<void> => (released ??= client.stop({ release: true }));
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
      accountSettings: (user) => {
        const accounts = provisioned.config.accounts;
        const chosen = user === undefined ? accounts[0] : accounts.find((a) => a.id === user || a.user === user);
        if (!chosen) return undefined;
        return {
          ...(user === undefined ? { id: chosen.id, user: chosen.user } : {}),
          ...(chosen.displayName !== undefined ? { displayName: chosen.displayName } : {}),
          ...(chosen.authUser !== undefined ? { authUser: chosen.authUser } : {}),
          ...(chosen.password !== undefined ? { password: chosen.password } : {}),
          ...(chosen.registerExpires !== undefined ? { registerExpires: chosen.registerExpires } : {}),
          ...(chosen.anonymity !== undefined ? { anonymity: { ...chosen.anonymity } } : {}),
        };
      },
    };
  } catch (error) {
    // A lease the phone will not run on is given back, and its address taken off the interface (RFC 2131 §4.4.6):
    // a boot file that could not be had or read left both held until the lease ran out. The provisioning error thrown
    // below is what went wrong, not a RELEASE that could not be sent.
    await client.stop({ release: true }).catch(() => undefined);
    await transport.close();
    throw error;
  }
}
