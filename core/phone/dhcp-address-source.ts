import { randomBytes, randomInt } from 'node:crypto';
import { IpCommandApplier } from '../address/address-applier.js';
import { AddressError } from '../address/address-error.js';
import type { OwnershipJournal } from '../address/address-journal.js';
import type { LeftoverLease } from '../address/recover-ownership.js';
import type { TemporaryAddress, TemporaryAddressSource } from '../address/address-source.js';
import type { CommandRunner } from '../address/command-runner.js';
import { dhcpMessage, encodeDhcpMessage } from '../lease/dhcp-message.js';
import { maskPrefixLength } from '../lease/ipv4.js';
import { LeaseClient, type LeaseTiming } from '../lease/lease-client.js';
import type { Lease } from '../lease/lease.js';
import { LeaseError } from '../lease/lease-error.js';
import { UdpLeaseTransport, type LeaseEndpoint, type LeaseTransport } from '../lease/lease-transport.js';

/**
 * Where one-time IPv4 addresses are leased: the DHCP servers of a network interface (broadcast from port 68, the
 * address then goes on that interface), or one server over loopback (the embedded lab's service gateway).
 */
export type DhcpAddressLink = { interface: string } | { server: LeaseEndpoint };

export interface DhcpAddressSourceOptions {
  link: DhcpAddressLink;
  run?: CommandRunner;
  timing?: Partial<LeaseTiming>;
  /** Where each lease is written down while held, so a crashed run's are released at the next start (SPEC B). */
  journal?: OwnershipJournal;
}

/** Addresses remembered as used: a server that offers one of them again is asked for another. */
const rememberedAddresses = 64;

/**
 * The addresses this process leased lately, per link, whichever account leased them: two calls of the same person from
 * one address would tie them together at the callee, whether the same account placed them or not.
 */
const usedOnLink = new Map<string, string[]>();
/** Leases taken in a row while the server keeps offering addresses the phone used before. */
const leaseAttempts = 4;

/**
 * Seed 000 Fig. 28 steps 504/508 ("whenever an IP call is made through IPv4, the address should be obtained from an
 * external server"): each address is its own DHCP lease, taken by a client that exists only for it — a random
 * locally administered chaddr and the client identifier made from it (RFC 2132 §9.14), as MAC randomisation does, no
 * vendor class, no host name — so the server cannot tell two of the phone's leases belong together nor hand the same
 * address back by client identifier. An offer of an address the phone used lately is taken and kept until another
 * lease is bound (so the server cannot offer it again), then released. `giveBack` sends DHCPRELEASE (RFC 2131
 * §4.4.6, seed 000 step 515). An IPv4 phone holds one address at a time (`oneAtATime`).
 */
export class DhcpAddressSource implements TemporaryAddressSource {
  readonly kind = 'dhcp';
  readonly oneAtATime = true;
  private readonly held = new Map<string, LeaseClient>();
  /** The journal entry of each lease held, by its client. */
  private readonly journalled = new Map<LeaseClient, number>();
  private readonly used: string[];
  private readonly ip: IpCommandApplier;

  constructor(private readonly options: DhcpAddressSourceOptions) {
    this.ip = new IpCommandApplier(options.run ? { run: options.run } : {});
    const link = 'interface' in options.link ? `if ${options.link.interface}` : `server ${options.link.server.address}:${options.link.server.port}`;
    if (!usedOnLink.has(link)) usedOnLink.set(link, []);
    this.used = usedOnLink.get(link)!;
  }

  async next(): Promise<TemporaryAddress> {
    const spare: LeaseClient[] = [];
    try {
      for (let attempt = 0; attempt < leaseAttempts; attempt++) {
        const client = await this.leaseOne();
        const lease = client.lease!;
        if (this.used.includes(lease.address)) {
          spare.push(client); // held on to, so the next DISCOVER cannot be offered it again
          continue;
        }
        this.held.set(lease.address, client);
        this.used.push(lease.address);
        if (this.used.length > rememberedAddresses) this.used.shift();
        return this.addressOf(lease);
      }
      throw new AddressError('POOL_EXHAUSTED', `the DHCP server offered only addresses used before, ${leaseAttempts} times in a row`);
    } finally {
      await Promise.allSettled(spare.map((client) => this.release(client)));
    }
  }

  async giveBack(address: TemporaryAddress): Promise<void> {
    const client = this.held.get(address.address);
    if (!client) return;
    this.held.delete(address.address);
    await this.release(client);
  }

  /** DHCPRELEASE (RFC 2131 §4.4.6), then the lease is struck from the journal. */
  private async release(client: LeaseClient): Promise<void> {
    try {
      await client.stop({ release: true });
    } finally {
      const id = this.journalled.get(client);
      this.journalled.delete(client);
      if (id !== undefined) this.options.journal?.release(id);
    }
  }

  /** One DHCP exchange by a new client; resolves once BOUND. */
  private async leaseOne(): Promise<LeaseClient> {
    let transport: LeaseTransport;
    try {
      transport = await this.transport();
    } catch (error) {
      throw new AddressError('APPLY_FAILED', `cannot reach a DHCP server: ${(error as Error).message}`);
    }
    // IEEE 802: a locally administered (bit 1) unicast (bit 0 clear) address, new for every lease
    const chaddr = randomBytes(6);
    chaddr[0] = (chaddr[0]! & 0xfc) | 0x02;
    const client = new LeaseClient({ transport, hardwareAddress: chaddr, kind: 'address', ...(this.options.timing ? { timing: this.options.timing } : {}) });
    try {
      const lease = await client.start();
      // written down as soon as the server holds it for us: a crash from here on leaves it to the next start
      if (this.options.journal && lease.serverId !== undefined) {
        this.journalled.set(client, this.options.journal.own({ kind: 'dhcp-lease', address: lease.address, serverId: lease.serverId, chaddr: chaddr.toString('hex'), link: this.options.link }));
      }
      return client;
    } catch (error) {
      await client.stop({ release: false });
      throw new AddressError('NO_LEASE', `no one-time address from a DHCP server: ${(error as Error).message}`);
    }
  }

  private transport(): Promise<LeaseTransport> {
    return linkTransport(this.options.link, this.ip);
  }

  private addressOf(lease: Lease): TemporaryAddress {
    const prefixLength = lease.subnetMask !== undefined ? (maskPrefixLength(lease.subnetMask) ?? 32) : 32;
    const ifname = 'interface' in this.options.link ? this.options.link.interface : undefined;
    return { address: lease.address, prefixLength, family: 4, source: `dhcp ${lease.serverId ?? 'server'}`, ...(ifname !== undefined ? { ifname } : {}) };
  }
}

/** A transport to the DHCP servers of `link`: the lab's one on loopback, or every one on the interface. */
async function linkTransport(link: DhcpAddressLink, ip: IpCommandApplier): Promise<LeaseTransport> {
  if ('server' in link) return UdpLeaseTransport.loopback(link.server);
  // the interface may have no IPv4 address between calls, and with it went the broadcast route (ENVIRONMENT.md)
  await ip.ensureBroadcastRoute(link.interface);
  return new UnicastOrBroadcast(await UdpLeaseTransport.open());
}

/**
 * SPEC B after a crash: a one-time address's lease an earlier run held is given back (DHCPRELEASE, RFC 2131 §4.4.6)
 * as its client would have — that chaddr, the client id made from it, the leased address and the server's id — so the
 * server can hand the address out again instead of holding it for the rest of the lease. A send that fails throws.
 */
export async function releaseLeftLease(lease: LeftoverLease, run?: CommandRunner): Promise<void> {
  const transport = await linkTransport(lease.link, new IpCommandApplier(run ? { run } : {}));
  try {
    const chaddr = Buffer.from(lease.chaddr, 'hex');
    const release = dhcpMessage({
      op: 1,
      xid: randomInt(0, 2 ** 32),
      chaddr,
      ciaddr: lease.address,
      options: { messageType: 'RELEASE', clientId: Buffer.concat([Buffer.from([1]), chaddr]), serverId: lease.serverId },
    });
    await transport.unicast(encodeDhcpMessage(release), lease.serverId);
  } finally {
    await transport.close();
  }
}

/**
 * A lease the phone takes but does not use (an address it used before) is released while no address of its own is on
 * the interface, so the unicast RELEASE has no route (ENETUNREACH): it is broadcast instead, which a server on the link
 * receives all the same (RFC 2131 §4.4.6 names no destination address; the server finds the lease by client id).
 */
class UnicastOrBroadcast implements LeaseTransport {
  constructor(private readonly inner: LeaseTransport) {}

  broadcast(packet: Buffer): Promise<void> {
    return this.inner.broadcast(packet);
  }

  async unicast(packet: Buffer, serverAddress: string): Promise<void> {
    try {
      await this.inner.unicast(packet, serverAddress);
    } catch (error) {
      if (!(error instanceof LeaseError && error.code === 'TRANSPORT_FAILED' && /ENETUNREACH/.test(error.message))) throw error;
      await this.inner.broadcast(packet);
    }
  }

  onPacket(handler: (packet: Buffer, from: LeaseEndpoint) => void): void {
    this.inner.onPacket(handler);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
