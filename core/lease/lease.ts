import type { DhcpMessage } from './dhcp-message.js';
import type { MgcAddress, PortRange } from './dhcp-options.js';
import { hostAddressProblem } from './ipv4.js';
import { LeaseError } from './lease-error.js';

/** Where a lease came from: a DHCP exchange, the data dir (reused, RFC 2131 §3.2) or static configuration (Fig. 5A 504). */
export type LeaseSource = 'dhcp' | 'stored' | 'static';

/**
 * Everything the phone runs on after Fig. 5B 572 "enable the lease values": its private address, the ports it may
 * use, the soft switches, the NAT public address and where its configuration file is. Times are epoch ms.
 */
export interface Lease {
  source: LeaseSource;
  address: string;
  subnetMask?: string;
  routers?: string[];
  dnsServers?: string[];
  /** The DHCP server (option 54); absent for static leases. */
  serverId?: string;
  portRange: PortRange;
  /** [primary, secondary?] soft switch addresses (option 225). */
  mgc: MgcAddress[];
  /** The address the service gateway's NAT puts on our packets (option 226); absent when there is no NAT. */
  natAddress?: string;
  /** TFTP server (option 66, else siaddr/sname) and boot file (option 67, else the file field). */
  tftpServer?: string;
  bootFile?: string;
  /** Seed 001: the number a room gateway allotted with the address (option 227, docs/household.md). */
  householdNumber?: string;
  /** Option 15 (RFC 2132 §3.17): a room gateway's building domain, the host of the terminal's address-of-record. */
  domainName?: string;
  obtainedAt: number;
  /** T1, T2 and expiry (RFC 2131 §4.4.5); Infinity for static leases. */
  renewAt: number;
  rebindAt: number;
  expiresAt: number;
  /** Lease time granted, in seconds (option 51). */
  leaseSeconds: number;
}

/**
 * Options Fig. 5A 518 may additionally insist on. Address, server id (54), lease time (51), port range (224) and
 * MGC (225) are always required: without a range there is no port to use (Fig. 4B), without an MGC registration
 * fails (Fig. 6A 608).
 */
export type RequiredLeaseField = 'natAddress' | 'tftpServer' | 'bootFile' | 'subnetMask' | 'routers';

const requiredCodes: Record<RequiredLeaseField, number> = { natAddress: 226, tftpServer: 66, bootFile: 67, subnetMask: 1, routers: 3 };

/**
 * `phone`: the lease the phone runs on (seed 003: port range and soft switches required). `address`: only an address,
 * from any address server (seed 000 Fig. 28 steps 504/508, a one-time address per call): the server need not know seed
 * 003's options; without a port range the lease allows every port (`ANY_PORTS`), without option 225 it names no MGC.
 */
export type LeaseKind = 'phone' | 'address';

/** The port range of an address lease whose server set none. */
export const ANY_PORTS: PortRange = { min: 1, max: 65535 };

/** The first port that is not a system port (RFC 6335 §6: 0-1023 are assigned to system services). */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/** The fewest ports a phone can work with: one SIP port and one RTP/RTCP pair. */
export const MIN_LEASED_PORTS = 3;

/**
 * What an offer lacks for the phone to run (seed 003 Fig. 5A 518: "determine whether the lease contains all the
 * necessary options"); empty when usable.
 */
export function missingLeaseOptions(message: DhcpMessage, required: readonly RequiredLeaseField[] = [], kind: LeaseKind = 'phone', link: { loopbackServer?: boolean } = {}): string[] {
  const o = message.options;
  const missing: string[] = [];
  if (message.yiaddr === '0.0.0.0') missing.push('address (yiaddr)');
  else {
    const problem = hostAddressProblem(message.yiaddr, o.subnetMask, link);
    if (problem !== undefined) missing.push(`a host address (yiaddr: ${problem})`);
  }
  if (o.serverId === undefined) missing.push('serverId (54)');
  if (o.leaseTime === undefined) missing.push('leaseTime (51)');
  else if (o.leaseTime === 0) missing.push('a leaseTime (51) above 0 s');
  if (kind === 'phone' && o.portRange === undefined) missing.push('portRange (224)');
  if (kind === 'phone' && o.mgc === undefined) missing.push('mgc (225)');
  for (const field of required) {
    if (field === 'tftpServer' && tftpServerOf(message) !== undefined) continue;
    if (field === 'bootFile' && bootFileOf(message) !== undefined) continue;
    if (field !== 'tftpServer' && field !== 'bootFile' && o[field] !== undefined) continue;
    missing.push(`${field} (${requiredCodes[field]})`);
  }
  if (o.portRange && o.portRange.max - o.portRange.min + 1 < MIN_LEASED_PORTS) missing.push(`portRange of at least ${MIN_LEASED_PORTS} ports`);
  // the phone binds its SIP and RTP sockets there: ports below 1024 are the system's (and need privileges)
  if (kind === 'phone' && o.portRange && o.portRange.min < FIRST_UNPRIVILEGED_PORT) missing.push(`portRange above ${FIRST_UNPRIVILEGED_PORT - 1} (got ${o.portRange.min}-${o.portRange.max})`);
  return missing;
}

/** Option 66, else the siaddr header field (RFC 2131 §2 "next server"). */
export function tftpServerOf(message: DhcpMessage): string | undefined {
  if (message.options.tftpServer) return message.options.tftpServer;
  return message.siaddr !== '0.0.0.0' ? message.siaddr : undefined;
}

/** Option 67, else the file header field. */
export function bootFileOf(message: DhcpMessage): string | undefined {
  return message.options.bootFile || message.file || undefined;
}

export interface LeaseClock {
  now: number;
  /** Milliseconds per lease second; 1000 except in tests that compress lease times. */
  secondMs: number;
}

/**
 * The lease an ACK grants (Fig. 5B 570: "store the lease information"). What the ACK omits comes from the offer,
 * then from the lease being renewed or reused. T1/T2 default to 0.5 and 0.875 of the lease time (RFC 2131 §4.4.5).
 */
export function leaseFromAck(ack: DhcpMessage, offer: DhcpMessage | undefined, clock: LeaseClock, previous?: Lease, kind: LeaseKind = 'phone', link: { loopbackServer?: boolean } = {}): Lease {
  const o = ack.options;
  const f = offer?.options ?? {};
  const portRange = o.portRange ?? f.portRange ?? previous?.portRange ?? (kind === 'address' ? ANY_PORTS : undefined);
  const mgc = o.mgc ?? f.mgc ?? previous?.mgc ?? (kind === 'address' ? [] : undefined);
  if (portRange === undefined || mgc === undefined) throw new LeaseError('NO_USABLE_OFFER', 'the lease has no port range or no MGC');
  // (a renewal ACK without option 51, which RFC 2131 Table 3 requires, keeps the lease time it had)
  const leaseSeconds = o.leaseTime ?? f.leaseTime ?? previous?.leaseSeconds ?? 0;
  // the ACK is held to what made an offer usable (missingLeaseOptions): an ACK that fails it is counted, not bound
  const problem = hostAddressProblem(ack.yiaddr, o.subnetMask ?? f.subnetMask ?? previous?.subnetMask, link);
  if (problem !== undefined) throw new LeaseError('DHCP_BAD_OPTION_VALUE', `the ACK leases no host address: ${problem}`);
  if (leaseSeconds === 0) throw new LeaseError('DHCP_BAD_OPTION_VALUE', 'the ACK leases the address for 0 s');
  if (kind === 'phone' && portRange.min < FIRST_UNPRIVILEGED_PORT) throw new LeaseError('BAD_PORT_RANGE', `the ACK leases system ports ${portRange.min}-${portRange.max}`);
  const infinite = leaseSeconds === 0xffffffff;
  const t1 = o.renewalTime ?? f.renewalTime ?? Math.floor(leaseSeconds * 0.5);
  const t2 = o.rebindingTime ?? f.rebindingTime ?? Math.floor(leaseSeconds * 0.875);
  const at = (seconds: number): number => (infinite ? Number.POSITIVE_INFINITY : clock.now + seconds * clock.secondMs);
  const subnetMask = o.subnetMask ?? f.subnetMask ?? previous?.subnetMask;
  const routers = o.routers ?? f.routers ?? previous?.routers;
  const dnsServers = o.dnsServers ?? f.dnsServers ?? previous?.dnsServers;
  const serverId = o.serverId ?? f.serverId ?? previous?.serverId;
  const natAddress = o.natAddress ?? f.natAddress ?? previous?.natAddress;
  const tftpServer = tftpServerOf(ack) ?? (offer ? tftpServerOf(offer) : undefined) ?? previous?.tftpServer;
  const bootFile = bootFileOf(ack) ?? (offer ? bootFileOf(offer) : undefined) ?? previous?.bootFile;
  const householdNumber = o.householdNumber ?? f.householdNumber ?? previous?.householdNumber;
  const domainName = o.domainName ?? f.domainName ?? previous?.domainName;
  return {
    source: 'dhcp',
    address: ack.yiaddr,
    ...(subnetMask !== undefined ? { subnetMask } : {}),
    ...(routers !== undefined ? { routers } : {}),
    ...(dnsServers !== undefined ? { dnsServers } : {}),
    ...(serverId !== undefined ? { serverId } : {}),
    portRange,
    mgc,
    ...(natAddress !== undefined ? { natAddress } : {}),
    ...(tftpServer !== undefined ? { tftpServer } : {}),
    ...(bootFile !== undefined ? { bootFile } : {}),
    ...(householdNumber !== undefined ? { householdNumber } : {}),
    ...(domainName !== undefined ? { domainName } : {}),
    obtainedAt: clock.now,
    renewAt: at(Math.min(t1, leaseSeconds)),
    rebindAt: at(Math.min(Math.max(t2, t1), leaseSeconds)),
    expiresAt: at(leaseSeconds),
    leaseSeconds,
  };
}

/** The fields a UI or report shows (issue 6 scenario contract: address, ports, mgc, nat). */
export function leaseSummary(lease: Lease): { address: string; ports: PortRange; mgc: string[]; nat?: string } {
  return {
    address: lease.address,
    ports: { ...lease.portRange },
    mgc: lease.mgc.map((m) => `${m.address}:${m.port}`),
    ...(lease.natAddress !== undefined ? { nat: lease.natAddress } : {}),
  };
}
