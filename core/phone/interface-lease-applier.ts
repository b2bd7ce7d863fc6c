import { IpCommandApplier } from '../address/address-applier.js';
import type { CommandRunner } from '../address/command-runner.js';
import { maskPrefixLength } from '../lease/ipv4.js';
import type { Lease } from '../lease/lease.js';
import type { LeaseAddressApplier } from '../lease/lease-address-applier.js';
import { LeaseError } from '../lease/lease-error.js';

/**
 * A DHCP-leased address on the phone's own interface (seed 003 Fig. 5B 572), through core/address's `ip` applier
 * (Linux, root or a network namespace). After the address goes it restores the 255.255.255.255/32 route, without
 * which the next DHCP broadcast fails with ENETUNREACH (ENVIRONMENT.md). Failures are the lease's ADDRESS_APPLY_FAILED.
 */
export class InterfaceLeaseApplier implements LeaseAddressApplier {
  private readonly ip: IpCommandApplier;

  constructor(
    readonly ifname: string,
    run?: CommandRunner,
  ) {
    this.ip = new IpCommandApplier({ replace: true, ...(run ? { run } : {}) });
  }

  apply(lease: Lease): Promise<void> {
    return asLeaseError(() => this.ip.apply(lease.address, prefixLength(lease), this.ifname));
  }

  async remove(lease: Lease): Promise<void> {
    try {
      await asLeaseError(() => this.ip.remove(lease.address, prefixLength(lease), this.ifname));
    } finally {
      await this.ensureBroadcastRoute();
    }
  }

  /** The route a DHCP client on an interface without IPv4 needs to broadcast. */
  ensureBroadcastRoute(): Promise<void> {
    return asLeaseError(() => this.ip.ensureBroadcastRoute(this.ifname));
  }
}

function prefixLength(lease: Lease): number {
  return lease.subnetMask !== undefined ? (maskPrefixLength(lease.subnetMask) ?? 32) : 32;
}

async function asLeaseError(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    throw new LeaseError('ADDRESS_APPLY_FAILED', (error as Error).message);
  }
}
