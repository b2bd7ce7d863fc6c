import { randomBytes } from 'node:crypto';
import type { AccountConfig } from '../api/phone-types.js';
import { HouseholdError } from '../household/household-error.js';
import { parseHouseholdNumber, roomNumber } from '../household/household-number.js';
import { householdVendorClass } from '../household/household-wire.js';
import type { Lease } from '../lease/lease.js';
import { LeaseClient, type LeaseTiming } from '../lease/lease-client.js';
import { FileLeaseStore, MemoryLeaseStore } from '../lease/lease-store.js';
import { UdpLeaseTransport, type LeaseEndpoint } from '../lease/lease-transport.js';
import { PortPool } from '../lease/port-pool.js';
import type { PhoneLease } from './phone-lease.js';

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
  /** Where the room gateway takes allocation requests (its DHCP service; loopback in the embedded lab). */
  gateway: LeaseEndpoint;
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
  const transport = await UdpLeaseTransport.loopback(options.gateway);
  // a locally administered unicast MAC (IEEE 802: bit 1 of the first octet set, bit 0 clear) for this terminal
  const mac = randomBytes(6);
  mac[0] = (mac[0]! & 0xfc) | 0x02;
  const client = new LeaseClient({
    transport,
    hardwareAddress: mac,
    vendorClass: householdVendorClass,
    store: options.dataDir !== undefined ? new FileLeaseStore(options.dataDir) : new MemoryLeaseStore(),
    timing: { ...loopbackTiming, ...options.timing },
  });
  let lease: Lease;
  try {
    lease = await client.start();
  } catch (error) {
    await client.stop({ release: false }).catch(() => undefined); // the allocation error below is what went wrong
    throw new HouseholdError('NO_ALLOCATION', `room gateway ${options.gateway.address}:${options.gateway.port} allotted no address: ${(error as Error).message}`);
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
