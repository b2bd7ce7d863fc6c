import fs from 'node:fs';
import path from 'node:path';
import { createPrivateDir, writePrivateFileAtomic } from '../../core/files/private-files.js';
import { dhcpMessage, encodeVendorSubOptions, formatHardwareAddress, type DhcpMessage } from '../../core/lease/dhcp-message.js';
import type { DhcpOptions, MgcAddress, PortRange } from '../../core/lease/dhcp-options.js';
import { ipv4Bytes, ipv4ToNumber, numberToIpv4 } from '../../core/lease/ipv4.js';
import { LeaseError } from '../../core/lease/lease-error.js';
import { PortBlockAllocator } from './port-block-allocator.js';

export interface DhcpServiceOptions {
  /** Our address: option 54 and where renewals are sent. */
  serverId: string;
  /** Addresses handed out, inclusive. */
  pool: { first: string; last: string };
  subnetMask?: string;
  router?: string;
  /**
   * Valid vendor classes (option 60, matched exactly) and the size of the port range each gets (seed 003 Fig. 4B:
   * "more ports for multi-line phones"), e.g. `{ "Veilphone-1": 20, "Veilphone-4": 80 }`.
   */
  vendorClasses: Record<string, number>;
  /** The port space the blocks are cut from (default 20000-59999). */
  ports?: PortRange;
  /** Soft switches: primary first (option 225). */
  mgc: MgcAddress[];
  /** The gateway's NAT public address (option 226). */
  natAddress?: string;
  /** Option 66/67 (and siaddr/file). */
  tftp?: { server: string; bootFile: string };
  leaseSeconds?: number;
  renewalSeconds?: number;
  rebindingSeconds?: number;
  /**
   * Fig. 5A 510: only these hardware addresses (prefixes like `02:00:5e`) or client ids (hex) get offers; all when
   * absent.
   */
  allowedClients?: { hardwarePrefixes?: string[]; clientIds?: string[] };
  /** How our private options travel: as options 224-226 (default) or as option 43 sub-options. */
  encoding?: 'private' | 'vendor-specific';
  /** A JSON file the leases are kept in (Fig. 5B 564 "store the lease in persistent data"). */
  leaseFile?: string;
  /** Milliseconds per lease second (tests compress lease time; default 1000). */
  secondMs?: number;
  now?: () => number;
}

export interface ServerLease {
  clientKey: string;
  hardwareAddress: string;
  vendorClass: string;
  address: string;
  portRange: PortRange;
  state: 'offered' | 'bound' | 'released';
  expiresAt: number;
}

export type DhcpDecision = { reply: DhcpMessage; lease?: ServerLease } | { ignored: string };

/** How long an OFFER holds its address and block (RFC 2131 §4.3.1 leaves it to the server). */
const OFFER_HOLD_SECONDS = 60;

/**
 * The service gateway's DHCP decisions (seed 003 Figs. 5A/5B server side, RFC 2131 §4.3), without sockets: the
 * client is validated by hardware address and vendor class (others are ignored, no OFFER), gets an address and a
 * port block sized by its class, disjoint from every other phone's, and the MGC/NAT/TFTP options.
 */
export class DhcpService {
  private readonly leases = new Map<string, ServerLease>();
  private readonly blocks: PortBlockAllocator;
  private readonly declined = new Set<string>();
  private readonly now: () => number;
  private readonly secondMs: number;

  constructor(readonly options: DhcpServiceOptions) {
    this.blocks = new PortBlockAllocator(options.ports ?? { min: 20000, max: 59999 });
    this.now = options.now ?? Date.now;
    this.secondMs = options.secondMs ?? 1000;
    for (const [name, size] of Object.entries(options.vendorClasses)) {
      if (!Number.isInteger(size) || size < 3) throw new LeaseError('BAD_PORT_RANGE', `vendor class ${name}: a phone needs at least 3 ports, got ${size}`);
    }
    if (ipv4ToNumber(options.pool.first) > ipv4ToNumber(options.pool.last)) throw new LeaseError('BAD_CONFIG', 'address pool first is above last');
    // every address that goes into an option is checked now, not at the first OFFER
    for (const address of [options.serverId, options.natAddress, options.subnetMask, options.router, options.tftp?.server]) if (address !== undefined) ipv4Bytes(address, 'BAD_CONFIG');
    if (options.mgc.length === 0 || options.mgc.length > 4) throw new LeaseError('NO_MGC', `the service gateway needs 1 to 4 soft switches, got ${options.mgc.length}`);
    for (const m of options.mgc) {
      ipv4Bytes(m.address, 'BAD_CONFIG');
      if (!(Number.isInteger(m.port) && m.port > 0 && m.port < 65536)) throw new LeaseError('BAD_CONFIG', `soft switch port ${m.port}`);
    }
    this.load();
  }

  get leaseSeconds(): number {
    return this.options.leaseSeconds ?? 3600;
  }

  /** The leases held now (offered, bound or released but not yet reused). */
  list(): ServerLease[] {
    return [...this.leases.values()].map((l) => ({ ...l, portRange: { ...l.portRange } }));
  }

  /** Decide on one client message: a reply, or why it is ignored. */
  handle(message: DhcpMessage): DhcpDecision {
    if (message.op !== 1) return { ignored: 'not a BOOTREQUEST' };
    const type = message.options.messageType;
    const key = clientKey(message);
    const hardware = formatHardwareAddress(message.chaddr);
    switch (type) {
      case 'DISCOVER':
        return this.discover(message, key, hardware);
      case 'REQUEST':
        return this.request(message, key, hardware);
      case 'RELEASE':
        return this.release(message, key);
      case 'DECLINE': {
        const lease = this.leases.get(key);
        if (lease && message.options.requestedAddress === lease.address) {
          this.declined.add(lease.address);
          this.drop(key);
        }
        return { ignored: 'DECLINE recorded' };
      }
      default:
        return { ignored: `${type} is not served` };
    }
  }

  private validate(message: DhcpMessage, key: string, hardware: string): string | undefined {
    const allowed = this.options.allowedClients;
    // seed 003 Fig. 5A 510 → 534: an unknown MAC (or client id) is ignored
    if (allowed) {
      const byHardware = allowed.hardwarePrefixes?.some((p) => hardware.startsWith(p.toLowerCase())) ?? false;
      const byClientId = allowed.clientIds?.includes(key) ?? false;
      if (!byHardware && !byClientId) return `client ${hardware} (${key}) is not allowed`;
    }
    // Fig. 5A 512 → 532: an unknown vendor class is ignored
    const vendorClass = message.options.vendorClass;
    if (vendorClass === undefined) return 'no vendor class (option 60)';
    if (!(vendorClass in this.options.vendorClasses)) return `vendor class "${vendorClass}" is not served`;
    return undefined;
  }

  private discover(message: DhcpMessage, key: string, hardware: string): DhcpDecision {
    const invalid = this.validate(message, key, hardware);
    if (invalid) return { ignored: invalid };
    const vendorClass = message.options.vendorClass!;
    const size = this.options.vendorClasses[vendorClass]!;
    this.reclaim();
    const existing = this.leases.get(key);
    const address = existing?.address ?? this.freeAddress(message.options.requestedAddress);
    if (address === undefined) return { ignored: 'address pool exhausted' };
    const portRange = this.blocks.allocate(key, size);
    if (portRange === undefined) return { ignored: `no free block of ${size} ports` };
    const lease: ServerLease = {
      clientKey: key,
      hardwareAddress: hardware,
      vendorClass,
      address,
      portRange,
      state: existing?.state === 'bound' ? 'bound' : 'offered',
      expiresAt: existing?.state === 'bound' ? existing.expiresAt : this.now() + OFFER_HOLD_SECONDS * this.secondMs,
    };
    this.leases.set(key, lease);
    return { reply: this.reply(message, 'OFFER', lease), lease };
  }

  private request(message: DhcpMessage, key: string, hardware: string): DhcpDecision {
    const invalid = this.validate(message, key, hardware);
    if (invalid) return { ignored: invalid };
    const lease = this.leases.get(key);
    const o = message.options;
    if (o.serverId !== undefined) {
      // SELECTING (RFC 2131 §4.3.2): the client answers one server's offer
      if (o.serverId !== this.options.serverId) {
        if (lease?.state === 'offered') this.drop(key);
        return { ignored: `client chose server ${o.serverId}` };
      }
      if (!lease || lease.address !== o.requestedAddress || lease.state === 'released') return { reply: this.nak(message, 'no such offer') };
      return this.ack(message, lease);
    }
    if (message.ciaddr === '0.0.0.0') {
      // INIT-REBOOT: the client asks to keep a stored address
      const wanted = o.requestedAddress;
      if (wanted === undefined) return { reply: this.nak(message, 'INIT-REBOOT without requested address') };
      if (lease && lease.address === wanted && lease.state !== 'released') return this.ack(message, lease);
      if (!this.inPool(wanted) || this.holder(wanted, key)) return { reply: this.nak(message, `${wanted} is not yours`) };
      // RFC 2131 §4.3.2: no record of this client — our lab is authoritative for its pool, so it re-creates the lease
      const portRange = this.blocks.allocate(key, this.options.vendorClasses[o.vendorClass!]!);
      if (portRange === undefined) return { ignored: 'no free port block' };
      const created: ServerLease = { clientKey: key, hardwareAddress: hardware, vendorClass: o.vendorClass!, address: wanted, portRange, state: 'offered', expiresAt: 0 };
      this.leases.set(key, created);
      return this.ack(message, created);
    }
    // RENEWING / REBINDING: ciaddr is the leased address
    if (!lease || lease.address !== message.ciaddr || lease.state !== 'bound' || lease.expiresAt <= this.now()) {
      return lease || this.inPool(message.ciaddr) ? { reply: this.nak(message, 'lease unknown or expired') } : { ignored: 'not our address' };
    }
    return this.ack(message, lease);
  }

  private release(message: DhcpMessage, key: string): DhcpDecision {
    const lease = this.leases.get(key);
    if (!lease || lease.address !== message.ciaddr) return { ignored: 'RELEASE for an unknown lease' };
    lease.state = 'released';
    lease.expiresAt = this.now();
    this.save();
    return { ignored: 'released' };
  }

  private ack(message: DhcpMessage, lease: ServerLease): DhcpDecision {
    lease.state = 'bound';
    lease.expiresAt = this.now() + this.leaseSeconds * this.secondMs;
    this.save();
    return { reply: this.reply(message, 'ACK', lease), lease };
  }

  private reply(request: DhcpMessage, type: 'OFFER' | 'ACK', lease: ServerLease): DhcpMessage {
    const o = this.options;
    const options: DhcpOptions = {
      messageType: type,
      serverId: o.serverId,
      leaseTime: this.leaseSeconds,
      ...(o.renewalSeconds !== undefined ? { renewalTime: o.renewalSeconds } : {}),
      ...(o.rebindingSeconds !== undefined ? { rebindingTime: o.rebindingSeconds } : {}),
      ...(o.subnetMask !== undefined ? { subnetMask: o.subnetMask } : {}),
      ...(o.router !== undefined ? { routers: [o.router] } : {}),
      ...(o.tftp ? { tftpServer: o.tftp.server, bootFile: o.tftp.bootFile } : {}),
    };
    const custom = { portRange: lease.portRange, mgc: o.mgc, ...(o.natAddress !== undefined ? { natAddress: o.natAddress } : {}) };
    if (o.encoding === 'vendor-specific') options.vendorSpecific = encodeVendorSubOptions(custom);
    else Object.assign(options, custom);
    return dhcpMessage({
      op: 2,
      xid: request.xid,
      chaddr: request.chaddr,
      flags: request.flags,
      giaddr: request.giaddr,
      yiaddr: lease.address,
      ...(o.tftp ? { siaddr: o.tftp.server, file: o.tftp.bootFile } : {}),
      options,
    });
  }

  private nak(request: DhcpMessage, why: string): DhcpMessage {
    return dhcpMessage({ op: 2, xid: request.xid, chaddr: request.chaddr, flags: request.flags, giaddr: request.giaddr, options: { messageType: 'NAK', serverId: this.options.serverId, message: why } });
  }

  private freeAddress(requested: string | undefined): string | undefined {
    if (requested !== undefined && this.inPool(requested) && !this.holder(requested) && !this.declined.has(requested)) return requested;
    const first = ipv4ToNumber(this.options.pool.first);
    const last = ipv4ToNumber(this.options.pool.last);
    const used = new Set([...this.leases.values()].map((l) => l.address));
    for (let n = first; n <= last; n++) {
      const address = numberToIpv4(n);
      if (!used.has(address) && !this.declined.has(address) && address !== this.options.serverId) return address;
    }
    return undefined;
  }

  private inPool(address: string): boolean {
    try {
      const n = ipv4ToNumber(address);
      return n >= ipv4ToNumber(this.options.pool.first) && n <= ipv4ToNumber(this.options.pool.last);
    } catch {
      return false;
    }
  }

  /** The client holding `address` other than `except`, if any. */
  private holder(address: string, except?: string): string | undefined {
    for (const lease of this.leases.values()) if (lease.address === address && lease.clientKey !== except && lease.state !== 'released' && lease.expiresAt > this.now()) return lease.clientKey;
    return undefined;
  }

  /** Expired offers and leases, and released ones, give their address and block back. */
  private reclaim(): void {
    const now = this.now();
    for (const [key, lease] of this.leases) if (lease.expiresAt <= now || lease.state === 'released') this.drop(key);
  }

  private drop(key: string): void {
    this.leases.delete(key);
    this.blocks.free(key);
    this.save();
  }

  private load(): void {
    const file = this.options.leaseFile;
    if (!file || !fs.existsSync(file)) return;
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { leases?: ServerLease[] };
    for (const lease of stored.leases ?? []) {
      if (lease.state !== 'bound' || !(lease.vendorClass in this.options.vendorClasses)) continue;
      if (this.blocks.restore(lease.clientKey, lease.portRange)) this.leases.set(lease.clientKey, lease);
    }
  }

  private save(): void {
    const file = this.options.leaseFile;
    if (!file) return;
    createPrivateDir(path.dirname(file));
    writePrivateFileAtomic(file, `${JSON.stringify({ leases: this.list().filter((l) => l.state === 'bound') }, null, 2)}\n`);
  }
}

/** Option 61 as hex, else the hardware address (RFC 2131 §4.2: the client identifier is the key). */
export function clientKey(message: DhcpMessage): string {
  return message.options.clientId ? message.options.clientId.toString('hex') : `hw:${formatHardwareAddress(message.chaddr)}`;
}
