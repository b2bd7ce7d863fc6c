import type { AccountConfig } from '../api/phone-types.js';
import { HouseholdError } from '../household/household-error.js';
import { parseHouseholdNumber, roomNumber } from '../household/household-number.js';
import { householdVendorClass } from '../household/household-wire.js';
import type { Lease } from '../lease/lease.js';
import { LeaseClient, type LeaseTiming } from '../lease/lease-client.js';
import { FileLeaseStore, MemoryLeaseStore } from '../lease/lease-store.js';
import type { LeaseEndpoint } from '../lease/lease-transport.js';
import { PortPool } from '../lease/port-pool.js';
import type { PhoneLease } from './phone-lease.js';
import { leaseLink } from './provision-phone.js';

/** What a household terminal shows and a scenario reports (issue 20): its room, number, address and gateway. */
export interface HouseholdTerminalInfo {
  room: string;
  /** `area-building-room-terminal` (seed 001 ¶[55]), allotted with the address. */
  number: string;
  /** The terminal's private address (¶[57]: the room's (N+1)-th). */
  address: string;
  /** The room gateway's SIP address `address:port`: the terminal's registrar and relay (¶[55]). */
  gateway: string;
}

export interface HouseholdTerminal {
  lease: Lease;
  /** The lease the phone runs on: SIP and RTP bind on the allotted address; its release is the deletion request. */
  phoneLease: PhoneLease;
  /** The account the allocation decided: the number as user, the gateway as server, bound on the allotted address. */
  account: Pick<AccountConfig, 'user' | 'server' | 'domain' | 'localAddress' | 'transport'>;
  household: HouseholdTerminalInfo;
  /** Fig. 8 steps 82, 84-85: the deletion request (DHCPRELEASE); the address and number go back to the room. Once only. */
  release(): Promise<void>;
}

export interface HouseholdTerminalOptions {
  /** Where the room gateway takes allocation requests: its DHCP service on loopback (the embedded lab) ... */
  gateway?: LeaseEndpoint;
  /** ... or the room's link: broadcast from port 68 on this interface; the allotted address goes on it (root). */
  interface?: string;
  /** Where the lease is kept between runs: a terminal restarting asks for its address (and so its number) again. */
  dataDir?: string;
  timing?: Partial<LeaseTiming>;
}

/** The lab's room gateway answers at once: retries come quickly, and a room with nothing to give fails soon. */
const loopbackTiming: Partial<LeaseTiming> = { initialWaitMs: 300, maxWaitMs: 1200, jitterMs: 100, maxDiscoverRounds: 3 };

/**
 * Seed 001 Fig. 8 steps 81, 86-87 (units 24-25) for a phone in "household terminal" mode: without an address it sends
 * an allocation request to its room's gateway and gets its address and number (docs/household.md: DHCP of vendor
 * class `Veilphone-household`, the number in option 227). The phone then registers the number from that address at
 * the gateway (units 21-23). NO_ALLOCATION when the gateway gives none or gives an address without a number.
 */
export async function allocateHouseholdTerminal(options: HouseholdTerminalOptions): Promise<HouseholdTerminal> {
  if ((options.gateway === undefined) === (options.interface === undefined)) throw new HouseholdError('NO_ALLOCATION', 'a household terminal allocates from a gateway endpoint or on an interface (one of them)');
  const link = await leaseLink(options.gateway ? { gateway: { dhcp: options.gateway, tftp: options.gateway } } : { network: { interface: options.interface! } });
  const where = options.gateway ? `${options.gateway.address}:${options.gateway.port}` : `interface ${options.interface}`;
  const client = new LeaseClient({
    transport: link.transport,
    hardwareAddress: link.hardwareAddress,
    vendorClass: householdVendorClass,
    ...(link.applier ? { applier: link.applier } : {}),
    store: options.dataDir !== undefined ? new FileLeaseStore(options.dataDir) : new MemoryLeaseStore(),
    timing: { ...(options.gateway ? loopbackTiming : {}), ...options.timing },
  });
  let lease: Lease;
  try {
    lease = await client.start();
  } catch (error) {
    await client.stop({ release: false }).catch(() => undefined); // the allocation error below is what went wrong
    throw new HouseholdError('NO_ALLOCATION', `the room gateway (${where}) allotted no address: ${(error as Error).message}`);
  }
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => (released ??= client.stop({ release: true }));
  try {
    if (lease.householdNumber === undefined) throw new HouseholdError('NO_ALLOCATION', `${lease.address} came without a household number (option 227)`);
    const number = parseHouseholdNumber(lease.householdNumber);
    if (number.terminal === undefined || number.terminal === 0) throw new HouseholdError('NO_ALLOCATION', `${lease.householdNumber} is not a terminal's number`);
    const gateway = lease.mgc[0]!;
    const domain = lease.domainName ?? gateway.address;
    return {
      lease,
      phoneLease: { pool: PortPool.fromLease(lease), privateAddress: lease.address, watch: client, release },
      account: { user: lease.householdNumber, server: `sip:${gateway.address}:${gateway.port};transport=udp`, domain, localAddress: lease.address, transport: 'udp' },
      household: { room: roomNumber(number), number: lease.householdNumber, address: lease.address, gateway: `${gateway.address}:${gateway.port}` },
      release,
    };
  } catch (error) {
    await release().catch(() => undefined); // the address goes back; the NO_ALLOCATION thrown is what went wrong
    throw error;
  }
}
