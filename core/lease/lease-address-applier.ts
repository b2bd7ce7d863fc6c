import { execFile } from 'node:child_process';
import { maskPrefixLength } from './ipv4.js';
import type { Lease } from './lease.js';
import { LeaseError } from './lease-error.js';

/**
 * Puts a leased address on an interface and takes it off again (Fig. 5B 572 "enable the lease values"). The lab
 * uses none: there the leased address is a model address, used in SIP and SDP only.
 */
export interface LeaseAddressApplier {
  apply(lease: Lease): Promise<void>;
  remove(lease: Lease): Promise<void>;
}

export interface IpCommandApplierOptions {
  /** The link the lease was obtained on. */
  interface: string;
  /** The `ip` program (default `ip` on PATH). */
  ip?: string;
}

/**
 * iproute2 on Linux (root, or inside a network namespace). After the address goes it restores the
 * 255.255.255.255/32 route, without which the next DHCP broadcast fails with ENETUNREACH (ENVIRONMENT.md).
 */
export class IpCommandApplier implements LeaseAddressApplier {
  constructor(private readonly options: IpCommandApplierOptions) {}

  async apply(lease: Lease): Promise<void> {
    const prefix = lease.subnetMask !== undefined ? (maskPrefixLength(lease.subnetMask) ?? 32) : 32;
    await this.ip(['addr', 'replace', `${lease.address}/${prefix}`, 'dev', this.options.interface]);
  }

  async remove(lease: Lease): Promise<void> {
    const prefix = lease.subnetMask !== undefined ? (maskPrefixLength(lease.subnetMask) ?? 32) : 32;
    try {
      await this.ip(['addr', 'del', `${lease.address}/${prefix}`, 'dev', this.options.interface]);
    } finally {
      await this.ensureBroadcastRoute();
    }
  }

  /** The route a DHCP client on an interface without IPv4 needs to broadcast. */
  ensureBroadcastRoute(): Promise<void> {
    return this.ip(['route', 'replace', '255.255.255.255/32', 'dev', this.options.interface]);
  }

  private ip(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.options.ip ?? 'ip', args, { timeout: 5000 }, (error, _stdout, stderr) => {
        if (error) reject(new LeaseError('ADDRESS_APPLY_FAILED', `ip ${args.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve();
      });
    });
  }
}
