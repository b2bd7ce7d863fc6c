import type { LeaseHealth } from '../api/phone-types.js';
import type { LeaseEvent, LeaseState } from '../lease/lease-client.js';
import type { Lease } from '../lease/lease.js';

/** The running lease client as the phone watches it (a LeaseClient; a small fake in tests). */
export interface LeaseWatch {
  readonly state: LeaseState;
  readonly lease: Lease | undefined;
  on(listener: (event: LeaseEvent) => void): () => void;
  /** Run `action` before the lease's address is given up (LeaseClient.beforeLoss); a fake may not. */
  beforeLoss?(action: (lease: Lease, reason: string) => Promise<void>): () => void;
}

/**
 * Whether the ports and the address the phone runs on are still leased (RFC 2131 §4.4.5). BOUND is healthy only
 * while it is the same address and port range the phone's sockets use: after a lost lease the client starts over
 * and may be given another range, which the phone moves onto only once no call runs (Phone). Every state that is
 * not BOUND, RENEWING or REBINDING means the lease is gone: the client must stop using it.
 */
export function leaseHealth(watch: LeaseWatch, held: { address: string; ports: { min: number; max: number } }): LeaseHealth {
  switch (watch.state) {
    case 'BOUND':
    case 'STATIC': {
      const lease = watch.lease;
      const same = lease !== undefined && lease.address === held.address && lease.portRange.min === held.ports.min && lease.portRange.max === held.ports.max;
      return same ? 'bound' : 'lost';
    }
    case 'RENEWING':
      return 'renewing';
    case 'REBINDING':
      return 'rebinding';
    default:
      return 'lost';
  }
}
